import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  everyKind,
  layout,
  picture,
  storedWithOrientation,
  UPRIGHT,
} from '../../packages/batch/test/manifest/_images.js';
import { cliEnv, runCli, sha256File, simulator, tempDir } from './_helpers.js';

interface ReportTask {
  id: string;
  status: string;
  frames?: { image?: string; last_image?: string };
}

/**
 * Frames as people have them, through the real CLI: what reaches the simulator (its ledger of uploads and the
 * uploaded files themselves) is PNG or JPEG, upright, within the limits, and a mismatched pair matches under
 * fit_last. The report's thumbnails are the frames as sent.
 */
describe('flf2v run with frames that need preparing', () => {
  it('sends every kind converted, upright, fitted, and fit_last pairs matched', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const files: Record<string, Buffer> = {
      ...(await everyKind()),
      'ref.png': await picture().png().toBuffer(),
      'o3.jpg': await storedWithOrientation(3),
      'o5.jpg': await storedWithOrientation(5),
      'o6.jpg': await storedWithOrientation(6),
      'o8.jpg': await storedWithOrientation(8),
      'huge.png': await picture(4800, 2700).png().toBuffer(),
      'tall.png': await picture(36, 64).png().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
    const firsts = Object.keys(files).filter((n) => !['ref.png', 'tall.png', 'huge.png'].includes(n));
    const rows = [
      'id,image,last_image,prompt,fit_last',
      ...firsts.map((n) => `${n},${n},ref.png,${n},`),
      'huge,huge.png,ref.png,huge,',
      'cover,ref.png,tall.png,cover,cover',
      'contain,ref.png,tall.png,contain,contain',
    ];
    await writeFile(join(dir, 'shots.csv'), `${rows.join('\n')}\n`);
    const out = join(dir, 'out');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache') });
    const res = await runCli(['run', 'shots.csv', '--out', out, '--quiet'], { cwd: dir, env });
    expect(res.code, res.stderr).toBe(0);

    const uploads = sim.ledger().uploads;
    for (const upload of Object.values(uploads)) {
      expect(['png', 'jpg']).toContain(upload.type);
      expect(Math.max(upload.width, upload.height)).toBeLessThanOrEqual(4096);
    }
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { tasks: ReportTask[] };
    const sent = async (task: ReportTask, field: 'image' | 'last_image') => {
      // The report's thumbnail is the frame as sent: the same bytes the simulator received.
      const path = resolve(out, task.frames![field]!);
      const sha = await sha256File(path);
      const upload = uploads[sha];
      expect(upload, `${task.id} ${field}: uploaded`).toBeDefined();
      const served = Buffer.from(
        await (await fetch(`${sim.url}/files/${sha}.${upload!.type}`)).arrayBuffer(),
      );
      expect(served.equals(await readFile(path))).toBe(true);
      return { ...(await layout(served)), type: upload!.type };
    };
    const byId = new Map(report.tasks.map((t) => [t.id, t]));
    expect(report.tasks.every((t) => t.status === 'succeeded')).toBe(true);
    for (const id of firsts) {
      expect(await sent(byId.get(id)!, 'image'), id).toMatchObject({ width: 64, height: 36, parts: UPRIGHT });
    }
    expect((await sent(byId.get('a.webp')!, 'image')).type).toBe('jpg');
    expect((await sent(byId.get('e.bmp')!, 'image')).type).toBe('png');
    expect(await sent(byId.get('huge')!, 'image')).toMatchObject({
      width: 4096,
      height: 2304,
      parts: UPRIGHT,
    });
    for (const id of ['cover', 'contain']) {
      expect(await sent(byId.get(id)!, 'last_image'), id).toMatchObject({ width: 64, height: 36 });
    }
    // ref.png needed nothing: it was sent as the very file the sheet names.
    expect(uploads[await sha256File(join(dir, 'ref.png'))]).toBeDefined();
  });

  it('--no-prepare sends nothing for a frame that would need converting', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    await writeFile(join(dir, 'a.webp'), (await everyKind())['a.webp']!);
    await writeFile(join(dir, 'ref.png'), await picture().png().toBuffer());
    await writeFile(join(dir, 'shots.csv'), 'id,image,last_image,prompt\nw,a.webp,ref.png,p\n');
    const res = await runCli(['run', 'shots.csv', '--out', 'out', '--no-prepare'], {
      cwd: dir,
      env: cliEnv(sim),
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('a.webp: expected a PNG or JPEG image, found a WebP image');
    expect(sim.ledger().requests.log).toEqual([]);
    const validate = await runCli(['validate', 'shots.csv'], { cwd: dir, env: cliEnv(sim) });
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('a.webp: WebP 64×36 → JPEG 64×36');
  });
});
