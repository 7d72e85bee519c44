import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cliEnv } from './_helpers.js';

/** `flf2v validate`, the built CLI in a child process: exit codes, output, and that it writes nothing. */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'packages/batch/bin/flf2v.js');
const FRAMES = join(ROOT, 'jobs/frames');
/** iconv-lite is @flf2v/batch's dependency, not the root's. */
const iconv = createRequire(join(ROOT, 'packages/batch/package.json'))(
  'iconv-lite',
) as typeof import('iconv-lite');

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function fixture(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-validate-'));
  dirs.push(dir);
  await mkdir(join(dir, 'frames'));
  for (const name of await readdir(FRAMES)) await copyFile(join(FRAMES, name), join(dir, 'frames', name));
  for (const [path, content] of Object.entries(files)) await writeFile(join(dir, path), content);
  return dir;
}

function validate(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No API key in the environment: validate must not need one.
    const child = spawn(process.execPath, [CLI, 'validate', ...args], {
      cwd,
      // PATH, HOME and the tests' cache (frames that validate prepares never go to the user's).
      env: cliEnv(undefined),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every path under dir with its size and mtime: any write shows up as a difference. */
async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  const out: string[] = [];
  for (const entry of entries.sort()) {
    const info = await stat(join(dir, entry));
    out.push(`${entry} ${info.size} ${info.mtimeMs}`);
  }
  return out;
}

const GOOD = `version: 1
name: good
tasks:
  - { id: one, image: frames/dawn.png, last_image: frames/noon.jpg, prompt: The sun climbs }
tasks_csv: rows.csv
`;
const ROWS =
  'id,image,last_image,prompt,duration\ntwo,frames/noon.jpg,frames/dusk.jpg,"Light, then shadow",6\n';

describe('flf2v validate', () => {
  it('exits 0 for a valid job, prints the plan, and writes nothing', async () => {
    const dir = await fixture({ 'good.yaml': GOOD, 'rows.csv': ROWS });
    const before = await snapshot(dir);
    const { code, stdout, stderr } = await validate(['good.yaml'], dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Plan for job good: 2 tasks → 2 videos, 11 seconds of video');
    expect(stdout).toContain('3 distinct files to upload');
    expect(stdout.trimEnd().endsWith('valid')).toBe(true);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('exits 2 for an invalid job and lists every problem with its location', async () => {
    const dir = await fixture({
      'bad.yaml': `${GOOD.replace('prompt: The sun climbs', 'prompt: The sun climbs, duration: 7')}limits: { submit_rpm: 0 }\n`,
      'rows.csv': `${ROWS}three,frames/gone.png,frames/dusk.jpg,Lost,5\n`,
    });
    const before = await snapshot(dir);
    const { code, stdout } = await validate(['bad.yaml'], dir);
    expect(code).toBe(2);
    expect(stdout).toContain('3 errors:');
    expect(stdout).toContain(
      'bad.yaml:4:103: tasks[0].duration (task one): expected 5, 6 or 8, got 7 [invalid-value]',
    );
    expect(stdout).toContain(
      'bad.yaml:6:23: limits.submit_rpm: expected a number > 0, got 0 [invalid-value]',
    );
    expect(stdout).toContain(
      'rows.csv row 3, column image (task three): frame file not found: frames/gone.png',
    );
    expect(stdout).toContain('invalid: 3 errors; nothing would be sent');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('prints JSON for scripts with --json', async () => {
    const dir = await fixture({
      'm.csv': 'image,last_image,prompt\nframes/dawn.png,frames/portrait.jpg,Turn\n',
    });
    const ok = await validate(['m.csv', '--json'], dir);
    expect(ok.code).toBe(0);
    const plan = JSON.parse(ok.stdout);
    expect(plan).toMatchObject({
      schemaVersion: 1,
      valid: true,
      manifest: { path: join(dir, 'm.csv'), format: 'csv' },
      summary: { tasks: 1, errors: 0, warnings: 1 },
      problems: [{ severity: 'warning', kind: 'aspect-mismatch', location: { file: 'm.csv', row: 2 } }],
    });
    const strict = await validate(['m.csv', '--json', '--strict'], dir);
    expect(strict.code).toBe(2);
    expect(JSON.parse(strict.stdout)).toMatchObject({ valid: false, summary: { tasks: 0, errors: 1 } });
  });

  it('reads a GBK CSV, detected or given with --encoding', async () => {
    const csv =
      'id,image,last_image,prompt\n暮色,frames/dusk.jpg,frames/night.png,暮色渐深，第一颗星出现。\n';
    const dir = await fixture({ 'gbk.csv': iconv.encode(csv, 'gbk') });
    const detected = await validate(['gbk.csv'], dir);
    expect(detected.code).toBe(0);
    expect(detected.stdout).toContain('read as GBK');
    const given = await validate(['gbk.csv', '--encoding', 'gbk', '--json'], dir);
    expect(JSON.parse(given.stdout)).toMatchObject({ valid: true, summary: { warnings: 0 } });
  });

  it('exits 2 for a manifest that does not exist', async () => {
    const dir = await fixture({});
    const { code, stdout } = await validate(['nope.yaml'], dir);
    expect(code).toBe(2);
    expect(stdout).toContain('nope.yaml: manifest not found: nope.yaml [file-missing]');
  });

  it('accepts the example jobs', async () => {
    for (const job of [
      'jobs/demo/demo.yaml',
      'jobs/bulk/bulk.yaml',
      'jobs/storyboard/day.yaml',
      'jobs/nightly.yaml',
      'jobs/prepared/prepared.yaml',
    ]) {
      const { code, stdout } = await validate([job], ROOT);
      expect(code, `${job}\n${stdout}`).toBe(0);
    }
  });
});
