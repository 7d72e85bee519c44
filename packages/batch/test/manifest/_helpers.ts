import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { onTestFinished } from 'vitest';
import { loadPlan } from '../../src/manifest/plan.js';
import type { LoadOptions, Plan, Problem } from '../../src/manifest/types.js';

export const REPO = new URL('../../../../', import.meta.url).pathname;
export const JPEG_320x180 = readFileSync(join(REPO, 'jobs/frames/dusk.jpg'));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real, minimal RGB PNG; `shade` varies the pixels so different shades hash differently. */
export function png(width: number, height: number, shade = 0): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.alloc(1 + width * 3, shade & 0xff);
  row[0] = 0; // filter: none
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** A TIFF structure (EXIF) with only an Orientation tag, little- or big-endian. */
export function exifTiff(orientation: number, bigEndian = false): Buffer {
  const tiff = Buffer.alloc(26);
  const u16 = (v: number, at: number) => (bigEndian ? tiff.writeUInt16BE(v, at) : tiff.writeUInt16LE(v, at));
  const u32 = (v: number, at: number) => (bigEndian ? tiff.writeUInt32BE(v, at) : tiff.writeUInt32LE(v, at));
  tiff.write(bigEndian ? 'MM' : 'II', 0, 'latin1');
  u16(42, 2);
  u32(8, 4); // IFD0 right after the header
  u16(1, 8); // one entry
  u16(0x0112, 10); // Orientation
  u16(3, 12); // SHORT
  u32(1, 14);
  u16(orientation, 18);
  u32(0, 22); // no next IFD
  return tiff;
}

/** A JPEG with an EXIF APP1 segment giving `orientation`, right after its SOI marker. */
export function jpegWithOrientation(jpeg: Buffer, orientation: number, bigEndian = false): Buffer {
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifTiff(orientation, bigEndian)]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, body, jpeg.subarray(2)]);
}

/** A PNG with an eXIf chunk giving `orientation`, before its image data. */
export function pngWithOrientation(width: number, height: number, orientation: number): Buffer {
  const plain = png(width, height);
  const ihdrEnd = 8 + 12 + 13;
  return Buffer.concat([
    plain.subarray(0, ihdrEnd),
    chunk('eXIf', exifTiff(orientation)),
    plain.subarray(ihdrEnd),
  ]);
}

export type Tree = Record<string, string | Uint8Array>;

/** Frames most fixtures use: three 16:9 PNGs, a 16:9 JPEG, a 9:16 PNG. */
export function frames(prefix = ''): Tree {
  return {
    [`${prefix}a.png`]: png(32, 18, 1),
    [`${prefix}b.png`]: png(32, 18, 2),
    [`${prefix}c.png`]: png(32, 18, 3),
    [`${prefix}d.jpg`]: JPEG_320x180,
    [`${prefix}tall.png`]: png(18, 32, 4),
  };
}

/** Writes a fixture tree into a fresh temp dir, removed when the test ends. */
export async function testdir(tree: Tree): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-manifest-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await writeTree(dir, tree);
  return dir;
}

export async function writeTree(dir: string, tree: Tree): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** loadPlan with paths shown relative to the fixture dir. */
export function load(dir: string, manifest: string, options: LoadOptions = {}): Promise<Plan> {
  return loadPlan(manifest, { cwd: dir, ...options });
}

export function errors(plan: Plan): Problem[] {
  return plan.problems.filter((p) => p.severity === 'error');
}

export function warnings(plan: Plan): Problem[] {
  return plan.problems.filter((p) => p.severity === 'warning');
}

/** `kind: message` lines, easy to read in a failing assertion. */
export function lines(problems: Problem[]): string[] {
  return problems.map((p) => `${p.kind}: ${p.message}`);
}

/** A CSV row, every cell quoted the way Excel quotes when it must. */
export function csvRow(cells: readonly (string | number | boolean | undefined)[]): string {
  return cells
    .map((cell) => {
      const text = cell === undefined ? '' : String(cell);
      return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',');
}
