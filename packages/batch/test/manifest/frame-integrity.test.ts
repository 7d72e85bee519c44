import { describe, expect, it } from 'vitest';
import { exifOrientation, inspectImage } from '../../src/manifest/image-check.js';
import {
  chunk,
  errors,
  exifTiff,
  JPEG_320x180,
  jpegWithOrientation,
  lines,
  load,
  png,
  pngWithOrientation,
  testdir,
  warnings,
} from './_helpers.js';

const HEADER = 'id,image,last_image,prompt';

/** Every way a copy can be cut short: early in the header, mid-data, one byte before the end. */
function cuts(bytes: Buffer): number[] {
  return [9, 40, Math.floor(bytes.length / 2), bytes.length - 20, bytes.length - 1];
}

describe('frames that end early (a file still copying or syncing)', () => {
  it('refuses a PNG cut anywhere, before anything is sent', async () => {
    const whole = png(64, 36, 9);
    for (const at of cuts(whole)) {
      const result = inspectImage(whole.subarray(0, at), 'png');
      expect(result, `cut at ${at}`).toMatchObject({ ok: false, kind: 'frame-truncated' });
      if (!result.ok) expect(result.text).toMatch(/^the file ends early: still copying\? \(/);
    }
    expect(inspectImage(whole, 'png')).toMatchObject({ ok: true, facts: { width: 64, height: 36 } });
  });

  it('refuses a JPEG cut anywhere, and accepts bytes after its end (phones append data)', async () => {
    for (const at of cuts(JPEG_320x180)) {
      const result = inspectImage(JPEG_320x180.subarray(0, at), 'jpeg');
      expect(result, `cut at ${at}`).toMatchObject({ ok: false, kind: 'frame-truncated' });
    }
    const trailer = Buffer.concat([JPEG_320x180, Buffer.from('MPF trailer written by a phone')]);
    expect(inspectImage(trailer, 'jpeg')).toMatchObject({ ok: true, facts: { width: 320, height: 180 } });
  });

  it('says when the missing part is zeros (a copy that reserved the whole size first)', () => {
    const whole = png(64, 36, 9);
    const reserved = Buffer.concat([whole.subarray(0, 60), Buffer.alloc(whole.length - 60)]);
    const jpeg = Buffer.concat([JPEG_320x180.subarray(0, 1000), Buffer.alloc(JPEG_320x180.length - 1000)]);
    for (const [bytes, format] of [
      [reserved, 'png'],
      [jpeg, 'jpeg'],
    ] as const) {
      const result = inspectImage(bytes, format);
      expect(result).toMatchObject({ ok: false, kind: 'frame-truncated' });
      if (!result.ok) expect(result.text).toMatch(/bytes are zeros\)$/);
    }
  });

  it('calls a PNG whose chunk fails its checksum damaged', () => {
    const bad = Buffer.from(png(64, 36, 9));
    bad[45] = bad[45]! ^ 0xff; // a byte of the IDAT data
    expect(inspectImage(bad, 'png')).toEqual({
      ok: false,
      kind: 'frame-format',
      text: 'the PNG is damaged: its IDAT chunk at byte 33 fails its checksum (a bad copy?)',
    });
  });

  it('reports each kind at the frame, with its location, and plans nothing', async () => {
    const dir = await testdir({
      'ok.png': png(64, 36, 1),
      'half.png': png(64, 36, 2).subarray(0, 50),
      'half.jpg': JPEG_320x180.subarray(0, 1200),
      'm.csv': [HEADER, 'p,half.png,ok.png,x', 'j,ok.png,half.jpg,x'].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(lines(errors(plan))).toEqual([
      'frame-truncated: m.csv row 2, column image (task p): half.png: the file ends early: still copying? (the PNG stops inside its IDAT chunk; it has 50 bytes)',
      'frame-truncated: m.csv row 3, column last_image (task j): half.jpg: the file ends early: still copying? (the JPEG has no end marker (EOI); it has 1,200 bytes)',
    ]);
    expect(plan.tasks).toEqual([]);
  });
});

describe('frames stored rotated (EXIF orientation)', () => {
  it('reads the orientation from JPEG (either byte order) and PNG eXIf, 1–8', () => {
    for (let orientation = 1; orientation <= 8; orientation++) {
      for (const bigEndian of [false, true]) {
        const jpeg = jpegWithOrientation(JPEG_320x180, orientation, bigEndian);
        expect(inspectImage(jpeg, 'jpeg')).toMatchObject({ ok: true, facts: { orientation } });
      }
      expect(inspectImage(pngWithOrientation(32, 18, orientation), 'png')).toMatchObject({
        ok: true,
        facts: { orientation },
      });
    }
    expect(exifOrientation(exifTiff(9))).toBeUndefined();
    expect(exifOrientation(Buffer.from('not a tiff'))).toBeUndefined();
  });

  it('judges shapes as displayed: 5–8 turn the picture a quarter, 1–4 do not (sent as stored, preparation off)', async () => {
    const tree: Record<string, Buffer | string> = { 'wide.jpg': JPEG_320x180, 'tall.png': png(18, 32) };
    const rows = [HEADER];
    for (let o = 1; o <= 8; o++) {
      tree[`o${o}.jpg`] = jpegWithOrientation(JPEG_320x180, o);
      rows.push(`o${o},o${o}.jpg,wide.jpg,x`);
    }
    const dir = await testdir({ ...tree, 'm.csv': rows.join('\n') });
    const plan = await load(dir, 'm.csv', { prepare: { enabled: false } });
    const turned = warnings(plan).map((p) => p.taskId);
    expect(turned).toEqual(['o5', 'o6', 'o7', 'o8']);
    const byId = new Map(plan.tasks.map((t) => [t.id, t.image]));
    for (let o = 1; o <= 8; o++) {
      const quarter = o >= 5;
      expect(byId.get(`o${o}`)).toMatchObject({
        width: quarter ? 180 : 320,
        height: quarter ? 320 : 180,
        ...(o === 1 ? {} : { orientation: o }),
      });
    }
    expect(byId.get('o1')).not.toHaveProperty('orientation');
  });

  it('passes the pair that looks right and flags the one that is mismatched, saying which is stored rotated', async () => {
    const dir = await testdir({
      'phone-portrait.jpg': jpegWithOrientation(JPEG_320x180, 6),
      'real-portrait.png': png(18, 32),
      'landscape.png': png(32, 18),
      'm.csv': [
        HEADER,
        'portrait,phone-portrait.jpg,real-portrait.png,x',
        'mixed,phone-portrait.jpg,landscape.png,x',
      ].join('\n'),
    });
    const mismatch = (sent: string) =>
      `aspect-mismatch: m.csv row 3 (task mixed): the two frames' aspect ratios differ too much: image phone-portrait.jpg is 180×320 (0.56) as displayed (stored 320×180, turned 90° clockwise by its EXIF orientation 6${sent}), last_image landscape.png is 32×18 (1.78); expected their ratio within 0.8–1.25, got 0.32`;
    const plan = await load(dir, 'm.csv');
    expect(lines(warnings(plan))).toEqual([mismatch('; sent upright')]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['portrait', 'mixed']);
    const asStored = await load(dir, 'm.csv', { prepare: { enabled: false } });
    expect(lines(warnings(asStored))).toEqual([mismatch('')]);
  });

  it('ignores an EXIF block it cannot read, and a second APP1 segment', () => {
    const junk = Buffer.concat([
      JPEG_320x180.subarray(0, 2),
      Buffer.from([0xff, 0xe1, 0x00, 0x0a]),
      Buffer.from('Exif\0\0II', 'latin1'),
      JPEG_320x180.subarray(2),
    ]);
    expect(inspectImage(junk, 'jpeg')).toMatchObject({ ok: true, facts: { orientation: 1 } });
    const twice = jpegWithOrientation(jpegWithOrientation(JPEG_320x180, 3), 6);
    expect(inspectImage(twice, 'jpeg')).toMatchObject({ ok: true, facts: { orientation: 6 } });
    expect(chunk('eXIf', exifTiff(8)).length).toBe(12 + 26);
  });
});
