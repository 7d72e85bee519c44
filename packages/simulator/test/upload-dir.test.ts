import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { body, png, start, submit, tempDir, upload } from './_helpers.js';

describe('uploadDir: uploaded frames outlive the simulator process', () => {
  it('a restarted simulator (another port) accepts a submit naming frames uploaded to the earlier one', async () => {
    const uploadDir = join(await tempDir('flf2v-sim-uploads-'), 'state', 'simulator-uploads');
    const first = await start({ uploadDir });
    const a = (await upload(first, png(64, 36, 1))).body.data.fullPath as string;
    const b = (await upload(first, png(64, 36, 2))).body.data.fullPath as string;
    await first.close();

    const second = await start({ uploadDir });
    expect(second.url).not.toBe(first.url);
    const r = await submit(second, body({ image: a, last_image: b }));
    expect(r.body.code, r.text).toBe(0);
    // …and serves them, at its own address too.
    const file = await fetch(a.replace(first.url, second.url));
    expect(Buffer.from(await file.arrayBuffer()).equals(png(64, 36, 1))).toBe(true);
    // One file per frame, under its content hash; no temp file left behind.
    expect((await readdir(uploadDir)).sort()).toEqual(
      [a, b].map((u) => u.slice(u.lastIndexOf('/') + 1)).sort(),
    );
  });

  it('without it, a restarted simulator knows nothing: the refusal that a resumed rehearsal used to meet', async () => {
    const first = await start();
    const a = (await upload(first, png(64, 36, 1))).body.data.fullPath as string;
    await first.close();
    const second = await start();
    const r = await submit(second, body({ image: a, last_image: a }));
    expect(r.body.message).toMatch(/no uploaded file at/);
  });

  it('a file in the directory that is not a frame is not taken for one', async () => {
    const uploadDir = await tempDir('flf2v-sim-uploads-');
    const sha = 'ab'.repeat(32);
    await writeFile(join(uploadDir, `${sha}.png`), 'not a png');
    const sim = await start({ uploadDir });
    const url = `${sim.url}/files/${sha}.png`;
    const r = await submit(sim, body({ image: url, last_image: url }));
    expect(r.body.message).toMatch(/no uploaded file at/);
  });
});
