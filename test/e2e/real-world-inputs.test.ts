import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { submissionBodyHash } from '@flf2v/simulator';
import { describe, expect, it } from 'vitest';
import { cliEnv, ROOT, runCli, sha256File, simulator, tempDir } from './_helpers.js';

/** The inputs of issue 14, as reported: the CLI is run from each case's folder, as a user would. */
const CASES = join(ROOT, 'packages/batch/test/fixtures/cases');

async function caseDir(name: string): Promise<string> {
  const dir = join(await tempDir(), name);
  await cp(join(CASES, name), dir, { recursive: true });
  return dir;
}

describe('issue 14 inputs through the real CLI', () => {
  it('flf2v validate gives each case its right verdict', async () => {
    const verdicts: [string, string, number, string][] = [
      ['01-yaml-merge', 'job.yaml', 0, 'valid'],
      ['01-yaml-merge', 'job-merge2.yaml', 0, 'valid'],
      ['02-exif-orientation', 'shots.csv', 0, 'as displayed (stored 320×180'],
      ['03-sep-line', 'semicolon.csv', 0, '2 tasks'],
      ['03-sep-line', 'semicolon-nosep.csv', 0, '2 tasks'],
      ['04-cp1252-as-gbk', 'shots.csv', 0, '«A naïve señor walks past the Müller bakery at dusk.»'],
      ['06-utf16-tab', 'unicode-text.txt', 0, '2 tasks'],
      ['07-windows-paths', 'shots.csv', 0, 'read as frames/day 1/a.png'],
      ['10-truncated-frames', 'shots.csv', 2, 'frames/half.png: the file ends early: still copying?'],
      ['11-yaml-numeric-ids', 'job.yaml', 0, '5 tasks'],
      ['13-windows-reserved-ids', 'shots.csv', 2, 'not a Windows device name'],
    ];
    for (const [name, manifest, code, shows] of verdicts) {
      const res = await runCli(['validate', manifest], { cwd: await caseDir(name) });
      expect(res.code, `${name}/${manifest}: ${res.stdout}${res.stderr}`).toBe(code);
      expect(res.stdout, `${name}/${manifest}`).toContain(shows);
    }
  });

  it('flf2v run sends nothing for a frame still being copied', async () => {
    const sim = await simulator();
    const dir = await caseDir('10-truncated-frames');
    const res = await runCli(['run', 'shots.csv', '--out', 'out'], { cwd: dir, env: cliEnv(sim) });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('frames/half.png: the file ends early: still copying?');
    expect(res.stderr).toContain('nothing was sent');
    expect(sim.ledger().requests.log).toEqual([]);
  });

  it('flf2v run sends a Windows-1252 sheet’s prompts as written, not as mojibake', async () => {
    const sim = await simulator();
    const dir = await caseDir('04-cp1252-as-gbk');
    const res = await runCli(['run', 'shots.csv', '--out', 'out', '--quiet'], { cwd: dir, env: cliEnv(sim) });
    expect(res.code, res.stderr).toBe(0);
    const url = async (file: string) => `${sim.url}/files/${await sha256File(join(dir, 'frames', file))}.png`;
    const body = async (image: string, last: string, prompt: string) =>
      submissionBodyHash({
        selected_model: 'Viduq2-pro-FLF2V-fast',
        task_type: 'flf2video',
        input: {
          image: await url(image),
          last_image: await url(last),
          prompt,
          resolution: '720p',
          duration: 5,
        },
      });
    const expected = [
      await body('b.png', 'a.png', 'A naïve señor walks past the Müller bakery at dusk.'),
      await body('a.png', 'b.png', 'Crème brûlée glows under the Müller bakery lamps.'),
    ];
    expect(
      sim
        .ledger()
        .submissions.accepted.map((s) => s.bodyHash)
        .sort(),
    ).toEqual(expected.sort());
  });

  it('run --help shows the task timeout default as the README writes it', async () => {
    const res = await runCli(['run', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /--task-timeout <duration>\s+report a task stalled after this long at the\s+provider \(default: 30m\)/,
    );
    expect(res.stdout).not.toContain('1800000');
    expect(await readFile(join(ROOT, 'README.md'), 'utf8')).toContain('30m');
  });
});
