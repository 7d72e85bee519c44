import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPlanSummary, planToJson } from '../../src/manifest/format.js';
import type { FrameRef, LoadOptions, Plan } from '../../src/manifest/types.js';
import { errors, JPEG_320x180, lines, load as loadIn, png, testdir, warnings } from './_helpers.js';
import {
  bmp24,
  everyKind,
  layout,
  noisy as noisyPicture,
  picture,
  storedWithOrientation,
  UPRIGHT,
} from './_images.js';

const HEADER = 'id,image,last_image,prompt';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** loadPlan with prepared frames kept in the fixture dir's own cache. */
function load(dir: string, manifest: string, options: LoadOptions = {}): Promise<Plan> {
  return loadIn(dir, manifest, {
    ...options,
    prepare: { cacheDir: join(dir, '.prepared'), ...options.prepare },
  });
}

function file(frame: FrameRef): Extract<FrameRef, { kind: 'file' }> {
  if (frame.kind !== 'file') throw new Error('expected a file frame');
  return frame;
}

describe('frames as people have them', () => {
  it('converts WebP, AVIF, TIFF, GIF, BMP, 16-bit PNG and CMYK JPEG: PNG for lossless or alpha, JPEG for photos', async () => {
    const kinds = await everyKind();
    const names = Object.keys(kinds);
    const dir = await testdir({
      ...kinds,
      'ref.png': png(64, 36),
      'm.csv': [HEADER, ...names.map((n) => `${n},${n},ref.png,${n}`)].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(plan.problems).toEqual([]);
    const sent = Object.fromEntries(plan.tasks.map((t) => [t.id, file(t.image)]));
    expect(Object.fromEntries(names.map((n) => [n, sent[n]!.format]))).toEqual({
      'a.webp': 'jpeg',
      'b.avif': 'jpeg',
      'c.tiff': 'png',
      'd.gif': 'png',
      'e.bmp': 'png',
      'f16.png': 'png',
      'g-cmyk.jpg': 'jpeg',
      'h-alpha.webp': 'png',
    });
    for (const name of names) {
      const frame = sent[name]!;
      const bytes = await readFile(frame.path);
      expect(sha256(bytes), name).toBe(frame.sha256);
      expect(await layout(bytes), name).toMatchObject({ width: 64, height: 36, parts: UPRIGHT });
      expect(frame.prepared!.source).toMatchObject({ path: join(dir, name), sha256: sha256(kinds[name]!) });
    }
    expect(sent['f16.png']!.prepared!.steps).toEqual(['16-bit to 8-bit']);
    expect(sent['g-cmyk.jpg']!.prepared!.steps).toEqual(['CMYK to RGB']);
    expect(sent['a.webp']!.prepared!.steps).toEqual(['converted from WebP']);
    expect(file(plan.tasks[0]!.last_image).prepared).toBeUndefined();
  });

  it('sends a PNG or JPEG that needs nothing byte for byte: same file, same hash, same task key as 0.1', async () => {
    const dir = await testdir({
      'a.png': png(64, 36),
      'b.jpg': JPEG_320x180,
      'm.csv': [HEADER, 'x,a.png,b.jpg,p'].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    const asIs = await load(dir, 'm.csv', { prepare: { enabled: false } });
    expect(plan.tasks[0]!.image).toEqual(asIs.tasks[0]!.image);
    expect(plan.tasks[0]!.image).toMatchObject({ path: join(dir, 'a.png'), sha256: sha256(png(64, 36)) });
    expect(plan.tasks[0]!.key).toBe(asIs.tasks[0]!.key);
    expect(plan.prepared).toEqual([]);
  });

  it('turns every EXIF orientation upright (and mirrored ones back)', async () => {
    const tree: Record<string, Buffer | string> = { 'ref.png': png(64, 36) };
    const rows = [HEADER];
    for (let o = 1; o <= 8; o++) {
      tree[`o${o}.jpg`] = await storedWithOrientation(o);
      rows.push(`o${o},o${o}.jpg,ref.png,o${o}`);
    }
    const dir = await testdir({ ...tree, 'm.csv': rows.join('\n') });
    const plan = await load(dir, 'm.csv');
    expect(plan.problems).toEqual([]);
    for (const task of plan.tasks) {
      const frame = file(task.image);
      expect(await layout(await readFile(frame.path)), task.id).toMatchObject({
        width: 64,
        height: 36,
        parts: UPRIGHT,
      });
      if (task.id === 'o1') expect(frame.prepared).toBeUndefined();
      else expect(frame.prepared!.steps[0]).toMatch(/^turned upright \(EXIF orientation \d: /);
    }
  });

  it('fits frames over the side or byte limit, from the defaults or the job file', async () => {
    const noisy = await noisyPicture(1600, 900, 60).png().toBuffer();
    const dir = await testdir({
      'big.png': noisy,
      'ref.png': png(64, 36),
      'm.csv': [HEADER, 'x,big.png,ref.png,p'].join('\n'),
      'j.yaml': 'version: 1\nprepare: { max_side_px: 800, max_bytes: 200000 }\ntasks_csv: m.csv\n',
    });
    expect(noisy.length).toBeGreaterThan(1_000_000);
    const byDefault = file((await load(dir, 'm.csv')).tasks[0]!.image);
    expect(byDefault.prepared).toBeUndefined(); // 1600 px and ~3 MB are within 4096 px and 10 MiB
    const plan = await load(dir, 'j.yaml');
    expect(plan.problems).toEqual([]);
    const frame = file(plan.tasks[0]!.image);
    expect(frame.bytes).toBeLessThanOrEqual(200_000);
    expect(Math.max(frame.width, frame.height)).toBeLessThanOrEqual(800);
    expect(frame.width / frame.height).toBeCloseTo(16 / 9, 1);
    expect(frame.prepared!.steps[0]).toBe('scaled down from 1600×900 to fit 800 px');
    expect(frame.prepared!.steps.at(-1)).toMatch(/to stay under 0\.2 MB$/);
    expect(plan.summary.prepare).toEqual({ enabled: true, maxSidePx: 800, maxBytes: 200000 });
  });

  it('says when a frame cannot be made small enough', async () => {
    const noisy = await noisyPicture(512, 288, 80).png().toBuffer();
    const dir = await testdir({
      'n.png': noisy,
      'ref.png': png(64, 36),
      'm.csv': [HEADER, 'x,n.png,ref.png,p'].join('\n'),
    });
    const [problem] = lines(errors(await load(dir, 'm.csv', { limits: { imageMaxBytes: 1500 } })));
    expect(problem).toMatch(
      /^frame-too-large: m\.csv row 2, column image \(task x\): n\.png: cannot be made 1,500 bytes or smaller at \d+×\d+/,
    );
  });

  it('is deterministic: the same source gives the same bytes, from a fresh cache too', async () => {
    const kinds = await everyKind();
    const dir = await testdir({
      ...kinds,
      'ref.png': png(64, 36),
      'm.csv': [HEADER, ...Object.keys(kinds).map((n) => `${n},${n},ref.png,${n}`)].join('\n'),
    });
    const first = await load(dir, 'm.csv');
    const again = await load(dir, 'm.csv');
    const fresh = await loadIn(dir, 'm.csv', { prepare: { cacheDir: join(dir, 'other-cache') } });
    const keys = (plan: Plan) => plan.tasks.map((t) => [t.key, file(t.image).sha256]);
    expect(keys(again)).toEqual(keys(first));
    expect(keys(fresh)).toEqual(keys(first));
    expect(file(again.tasks[0]!.image).path).toBe(file(first.tasks[0]!.image).path);
  });

  it('makes a damaged cache entry again', async () => {
    const dir = await testdir({
      'a.webp': (await everyKind())['a.webp']!,
      'ref.png': png(64, 36),
      'm.csv': [HEADER, 'x,a.webp,ref.png,p'].join('\n'),
    });
    const first = file((await load(dir, 'm.csv')).tasks[0]!.image);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(first.path, (await readFile(first.path)).subarray(0, 100));
    const again = file((await load(dir, 'm.csv')).tasks[0]!.image);
    expect(again.sha256).toBe(first.sha256);
    expect(sha256(await readFile(again.path))).toBe(first.sha256);
  });

  it('reads a BMP the right way up (rows stored bottom-up)', async () => {
    const dir = await testdir({
      'e.bmp': bmp24(),
      'ref.png': png(64, 36),
      'm.csv': [HEADER, 'x,e.bmp,ref.png,p'].join('\n'),
    });
    const frame = file((await load(dir, 'm.csv')).tasks[0]!.image);
    expect(await layout(await readFile(frame.path))).toEqual({
      width: 64,
      height: 36,
      format: 'png',
      parts: UPRIGHT,
    });
  });
});

describe('fit_last', () => {
  it('makes the last frame the first frame’s size: cover crops, contain pads; none and unset leave it', async () => {
    const dir = await testdir({
      'wide.png': png(64, 36),
      'tall.png': await picture(36, 64).png().toBuffer(),
      'm.csv': [
        'id,image,last_image,prompt,fit_last',
        'cover,wide.png,tall.png,a,cover',
        'contain,wide.png,tall.png,b,Contain',
        'none,wide.png,tall.png,c,none',
        'unset,wide.png,tall.png,d,',
      ].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(errors(plan)).toEqual([]);
    expect(warnings(plan).map((p) => p.taskId)).toEqual(['none', 'unset']);
    const last = Object.fromEntries(plan.tasks.map((t) => [t.id, file(t.last_image)]));
    for (const mode of ['cover', 'contain']) {
      expect(last[mode]).toMatchObject({ width: 64, height: 36, format: 'png' });
      expect(last[mode]!.prepared!.steps).toEqual([
        `made 64×36 like the first frame (fit_last: ${mode}: ${mode === 'cover' ? 'scaled to fill, then cropped' : 'scaled to fit, then padded'})`,
      ]);
    }
    // cover keeps the middle band of the tall picture: its top (red/green) and bottom (blue) halves meet there.
    const cover = await layout(await readFile(last.cover!.path));
    expect(cover.width).toBe(64);
    // contain pads left and right with black.
    const contain = await layout(await readFile(last.contain!.path));
    expect(contain.parts.split(' ')[0]).toBe('other');
    expect(last.none!.path).toBe(join(dir, 'tall.png'));
    expect(last.cover!.sha256).not.toBe(last.contain!.sha256);
  });

  it('is read from defaults, per task, and storyboard frames; needs files and preparation', async () => {
    const dir = await testdir({
      'wide.png': png(64, 36),
      'tall.png': await picture(36, 64).png().toBuffer(),
      'j.yaml': `version: 1
defaults: { fit_last: cover, image: wide.png, last_image: tall.png }
tasks:
  - { id: d, prompt: p }
  - { id: t, prompt: q, fit_last: none }
  - { id: u, prompt: r, last_image: "https://example.com/x.png" }
  - { id: bad, prompt: s, fit_last: stretch }
`,
    });
    const plan = await load(dir, 'j.yaml');
    expect(lines(errors(plan))).toEqual([
      'invalid-value: j.yaml:6:5: tasks[2].fit_last (task u): fit_last: cover needs both frames as files, to know their sizes; a URL is sent as it is',
      'invalid-value: j.yaml:7:37: tasks[3].fit_last (task bad): expected cover, contain or none, got "stretch"',
    ]);
    expect(plan.tasks.map((t) => [t.id, file(t.last_image).width])).toEqual([
      ['d', 64],
      ['t', 36],
    ]);
    const off = await load(dir, 'j.yaml', { prepare: { enabled: false } });
    expect(lines(errors(off))[0]).toContain(
      'fit_last: cover makes a new last frame, and frame preparation is off',
    );
    const board = await testdir({
      'wide.png': png(64, 36),
      'tall.png': await picture(36, 64).png().toBuffer(),
      's.yaml':
        'version: 1\nstoryboard:\n  frames:\n    - { image: wide.png, prompt: p, fit_last: contain }\n    - tall.png\n',
    });
    const story = await load(board, 's.yaml');
    expect(story.problems).toEqual([]);
    expect(file(story.tasks[0]!.last_image)).toMatchObject({ width: 64, height: 36 });
  });
});

describe('what preparation refuses', () => {
  it('says the file ends early for every container format, before decoding', async () => {
    const kinds = await everyKind();
    const cut = (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length * 0.6));
    const tree: Record<string, Buffer | string> = { 'ref.png': png(64, 36) };
    const rows = [HEADER];
    for (const name of ['a.webp', 'b.avif', 'c.tiff', 'd.gif', 'e.bmp']) {
      tree[name] = cut(kinds[name]!);
      rows.push(`${name},${name},ref.png,${name}`);
    }
    const dir = await testdir({ ...tree, 'm.csv': rows.join('\n') });
    const plan = await load(dir, 'm.csv');
    expect(errors(plan).map((p) => [p.taskId, p.kind])).toEqual([
      ['a.webp', 'frame-truncated'],
      ['b.avif', 'frame-truncated'],
      ['c.tiff', 'frame-truncated'],
      ['d.gif', 'frame-truncated'],
      ['e.bmp', 'frame-truncated'],
    ]);
    for (const problem of errors(plan))
      expect(problem.message).toContain('the file ends early: still copying?');
    expect(plan.tasks).toEqual([]);
  });

  it('refuses HEIC (HEVC) and SVG with what to do, and --no-prepare restores PNG/JPEG only', async () => {
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'),
    ]);
    const dir = await testdir({
      'p.heic': heic,
      'v.svg': '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="36"/>',
      'a.webp': (await everyKind())['a.webp']!,
      'ref.png': png(64, 36),
      'm.csv': [HEADER, 'h,p.heic,ref.png,p', 's,v.svg,ref.png,p'].join('\n'),
      'w.csv': [HEADER, 'w,a.webp,ref.png,p'].join('\n'),
    });
    expect(lines(errors(await load(dir, 'm.csv')))).toEqual([
      'frame-format: m.csv row 2, column image (task h): p.heic: expected a PNG or JPEG image, found a HEIC image (HEVC): its codec is not in the bundled image library; export it as JPEG (on an iPhone: Settings → Camera → Formats → Most Compatible)',
      'frame-format: m.csv row 3, column image (task s): v.svg: expected a PNG or JPEG image, found an SVG (vector) image: export it as PNG at the size the video should have',
    ]);
    expect(lines(errors(await load(dir, 'w.csv', { prepare: { enabled: false } })))).toEqual([
      'frame-format: w.csv row 2, column image (task w): a.webp: expected a PNG or JPEG image, found a WebP image (flf2v converts it unless preparation is off: drop --no-prepare or prepare: false)',
    ]);
  });

  it('checks prepare: in a job file', async () => {
    const dir = await testdir({
      'j.yaml': 'version: 1\nprepare: { max_side_px: 10, max_bytes: 99999999, colour: no }\ntasks: []\n',
      'k.yaml': 'version: 1\nprepare: sometimes\ntasks: []\n',
    });
    expect(lines(errors(await load(dir, 'j.yaml')))).toEqual([
      'invalid-value: j.yaml:2:25: prepare.max_side_px: expected at least 64 px, got 10',
      "invalid-value: j.yaml:2:40: prepare.max_bytes: expected from 65,536 to 20,971,520 bytes (the provider's limit), got 99999999",
      'unknown-field: j.yaml:2:50: prepare.colour: unknown field "colour"; expected one of: max_side_px, max_bytes',
    ]);
    expect(lines(errors(await load(dir, 'k.yaml')))).toEqual([
      'invalid-value: k.yaml:2:10: prepare: expected true, false or a mapping of max_side_px, max_bytes, got "sometimes"',
    ]);
  });
});

describe('the plan says what preparation does', () => {
  it('per frame, in the summary and in --json', async () => {
    const kinds = await everyKind();
    const dir = await testdir({
      'a.webp': kinds['a.webp']!,
      'r.jpg': await storedWithOrientation(6),
      'ref.png': png(64, 36),
      'm.csv': [HEADER, 'w,a.webp,ref.png,p', 'r,r.jpg,ref.png,q'].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    const text = formatPlanSummary(plan, dir);
    expect(text).toContain(
      'prepared before upload (at most 4096 px and 10,485,760 bytes (10.0 MB) each): 2 frames',
    );
    expect(text).toMatch(/ {4}a\.webp: WebP 64×36 → JPEG 64×36, [\d,]+ bytes: converted from WebP\n/);
    expect(text).toMatch(
      / {4}r\.jpg: JPEG 64×36 → JPEG 64×36, [\d,]+ bytes: turned upright \(EXIF orientation 6: turned 90° clockwise\)\n/,
    );
    expect(text).toContain('kept in .prepared');
    const json = planToJson(plan);
    expect(json.prepared.map((p) => [p.image, p.source.format, p.sent.format, p.steps])).toEqual([
      ['a.webp', 'webp', 'jpeg', ['converted from WebP']],
      ['r.jpg', 'jpeg', 'jpeg', ['turned upright (EXIF orientation 6: turned 90° clockwise)']],
    ]);
    expect(json.summary.framesPrepared).toBe(2);
    expect(formatPlanSummary(await load(dir, 'm.csv', { prepare: { enabled: false } }), dir)).toContain(
      'frames are sent as they are (preparation off)',
    );
  });
});
