import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { errors, JPEG_320x180, lines, load, png, testdir, warnings } from './_helpers.js';

const HEADER = 'id,image,last_image,prompt';

describe('frames', () => {
  it('checks formats by their bytes, not their extension (preparation off: PNG and JPEG only)', async () => {
    const dir = await testdir({
      'png-named.jpg': png(32, 18),
      'jpeg-named.png': JPEG_320x180,
      'text.png': 'not an image',
      'empty.png': '',
      'gif.png': Buffer.from('GIF89a\x10\x00\x09\x00\x00\x00\x00;', 'latin1'),
      'broken.png': png(32, 18).subarray(0, 12),
      'm.csv': [
        HEADER,
        'ok,png-named.jpg,jpeg-named.png,p',
        'text,text.png,jpeg-named.png,p',
        'empty,empty.png,jpeg-named.png,p',
        'gif,gif.png,jpeg-named.png,p',
        'broken,broken.png,jpeg-named.png,p',
      ].join('\n'),
    });
    const plan = await load(dir, 'm.csv', { prepare: { enabled: false } });
    expect(lines(errors(plan))).toEqual([
      'frame-format: m.csv row 3, column image (task text): text.png: expected a PNG or JPEG image, found text',
      'frame-format: m.csv row 4, column image (task empty): empty.png: expected a PNG or JPEG image, found an empty file',
      'frame-format: m.csv row 5, column image (task gif): gif.png: expected a PNG or JPEG image, found a GIF image (flf2v converts it unless preparation is off: drop --no-prepare or prepare: false)',
      'frame-truncated: m.csv row 6, column image (task broken): broken.png: the file ends early: still copying? (the PNG has no IEND chunk; it has 12 bytes)',
    ]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['ok']);
    expect(plan.tasks[0]!.image).toMatchObject({ kind: 'file', format: 'png', width: 32, height: 18 });
    expect(plan.tasks[0]!.last_image).toMatchObject({
      kind: 'file',
      format: 'jpeg',
      width: 320,
      height: 180,
    });
  });

  it('reports missing frames with where it looked, once per file with its other uses', async () => {
    const dir = await testdir({
      'a.png': png(32, 18),
      'm.csv': [HEADER, 'x,a.png,gone.png,p', 'y,gone.png,a.png,p', 'z,a.png,sub,p'].join('\n'),
      'sub/keep': '',
    });
    const plan = await load(dir, 'm.csv');
    expect(lines(errors(plan))).toEqual([
      `frame-missing: m.csv row 2, column last_image (task x): frame file not found: gone.png (looked for ${dir}/gone.png) (also used at m.csv row 3, column image)`,
      `frame-missing: m.csv row 4, column last_image (task z): sub is not a file (${dir}/sub)`,
    ]);
  });

  it('rejects frames over the size limit (overridable) and outside 1:4–4:1 (preparation off)', async () => {
    const dir = await testdir({
      'big.png': png(400, 225),
      'a.png': png(32, 18),
      'thin.png': png(10, 50),
      'm.csv': [HEADER, 'big,big.png,a.png,p', 'thin,thin.png,thin.png,p'].join('\n'),
    });
    const big = (await import('node:fs')).statSync(`${dir}/big.png`).size;
    const plan = await load(dir, 'm.csv', {
      limits: { imageMaxBytes: big - 1 },
      prepare: { enabled: false },
    });
    expect(lines(errors(plan))).toEqual([
      `frame-too-large: m.csv row 2, column image (task big): big.png is ${big} bytes; the provider accepts frames of at most ${big - 1} bytes`,
      'frame-aspect: m.csv row 3, column image (task thin): thin.png is 10×50 (aspect 0.20); expected an aspect ratio from 1:4 to 4:1 (also used at m.csv row 3, column last_image)',
    ]);
    expect(errors(await load(dir, 'm.csv')).map((p) => p.kind)).toEqual(['frame-aspect']);
  });

  it('warns when the two frames differ in aspect ratio, and refuses with strict', async () => {
    const dir = await testdir({
      'wide.png': png(32, 18),
      'tall.png': png(18, 32),
      'near.png': png(30, 18), // 1.67 vs 1.78: within 0.8–1.25
      'm.csv': [HEADER, 'mismatch,wide.png,tall.png,p', 'near,wide.png,near.png,p'].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(errors(plan)).toEqual([]);
    expect(lines(warnings(plan))).toEqual([
      "aspect-mismatch: m.csv row 2 (task mismatch): the two frames' aspect ratios differ too much: image wide.png is 32×18 (1.78), last_image tall.png is 18×32 (0.56); expected their ratio within 0.8–1.25, got 3.16",
    ]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['mismatch', 'near']);
    const strict = await load(dir, 'm.csv', { strict: true });
    expect(errors(strict).map((p) => p.kind)).toEqual(['aspect-mismatch']);
    expect(strict.tasks.map((t) => t.id)).toEqual(['near']);
  });

  it('hashes each distinct file once and counts uploads by content', async () => {
    const same = png(32, 18, 7);
    const dir = await testdir({
      'a.png': same,
      'copy-of-a.png': same,
      'b.png': png(32, 18, 8),
      'm.csv': [HEADER, 'x,a.png,b.png,p', 'y,./a.png,copy-of-a.png,q', 'z,copy-of-a.png,b.png,r'].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(plan.problems).toEqual([]);
    expect(plan.summary.framesToUpload).toBe(2);
    const [x, y] = plan.tasks;
    expect(x!.image).toBe(y!.image); // one shared FrameRef: a.png and ./a.png are the same file
    expect(x!.image.kind === 'file' && x!.image.sha256).toBe(createHash('sha256').update(same).digest('hex'));
  });

  it('passes http(s) URLs through and rejects other schemes', async () => {
    const dir = await testdir({
      'a.png': png(32, 18),
      'm.csv': [
        HEADER,
        'u,https://cdn.example.test/a.png,a.png,p',
        'v,https://cdn.example.test/a.png,http://cdn.example.test/b.jpg,p',
        'f,ftp://x.test/a.png,a.png,p',
        'd,"data:image/png;base64,AAAA",a.png,p',
      ].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(lines(errors(plan))).toEqual([
      'invalid-value: m.csv row 4, column image (task f): expected a file path or an http(s) URL, got "ftp://x.test/a.png"',
      'invalid-value: m.csv row 5, column image (task d): expected a file path or an http(s) URL, got a data: URL (save the image to a file and give its path)',
    ]);
    expect(plan.tasks[0]!.image).toEqual({ kind: 'url', url: 'https://cdn.example.test/a.png' });
    expect(plan.summary).toMatchObject({ framesToUpload: 1, urlFrames: 2 });
  });
});
