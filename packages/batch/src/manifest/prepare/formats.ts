import { readTiffIfd } from '../image-check.js';

/**
 * Image formats a frame may come in, told by their bytes (never by the file name), and whether a file of a
 * container format is whole. PNG and JPEG are walked chunk by chunk in `image-check.ts`; the others here, as far
 * as their structure says how long they are. Anything a structure cannot tell is caught when the picture is
 * decoded (sharp, `failOn: 'error'`), still before anything is sent.
 */

export type SourceFormat = 'png' | 'jpeg' | 'webp' | 'avif' | 'heic' | 'tiff' | 'gif' | 'bmp' | 'svg';

export const FORMAT_NAMES: Readonly<Record<SourceFormat, string>> = Object.freeze({
  png: 'PNG',
  jpeg: 'JPEG',
  webp: 'WebP',
  avif: 'AVIF',
  heic: 'HEIC',
  tiff: 'TIFF',
  gif: 'GIF',
  bmp: 'BMP',
  svg: 'SVG',
});

const ascii = (bytes: Uint8Array, from: number, to: number) =>
  Buffer.from(bytes.subarray(from, to)).toString('latin1');

/** ISO-BMFF brands (`ftyp`) of HEIF files whose pictures are HEVC, not AV1. */
const HEVC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
/** BMP info header sizes: OS/2 1.x, Windows 3.x, V2, V3, OS/2 2.x, V4, V5. */
const BMP_HEADERS = new Set([12, 40, 52, 56, 64, 108, 124]);

export function sniffFormat(bytes: Uint8Array): SourceFormat | undefined {
  if (bytes.length >= 8 && ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(ascii(bytes, 0, 6))) return 'gif';
  if (bytes.length >= 4 && ['II*\0', 'MM\0*'].includes(ascii(bytes, 0, 4))) return 'tiff';
  if (
    bytes.length >= 18 &&
    ascii(bytes, 0, 2) === 'BM' &&
    BMP_HEADERS.has(Buffer.from(bytes).readUInt32LE(14))
  ) {
    return 'bmp';
  }
  if (bytes.length >= 16 && ascii(bytes, 4, 8) === 'ftyp') {
    const size = Math.min(Buffer.from(bytes).readUInt32BE(0), bytes.length);
    const brands = [ascii(bytes, 8, 12)];
    for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(bytes, at, at + 4));
    if (brands.some((b) => b === 'avif' || b === 'avis')) return 'avif';
    if (brands.some((b) => HEVC_BRANDS.has(b) || b === 'mif1' || b === 'msf1')) return 'heic';
    return undefined;
  }
  const head = ascii(bytes, 0, Math.min(bytes.length, 1024))
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  if (
    (head.startsWith('<?xml') || head.startsWith('<svg') || head.startsWith('<!--')) &&
    head.includes('<svg')
  ) {
    return 'svg';
  }
  return undefined;
}

export interface ContainerProblem {
  kind: 'frame-truncated' | 'frame-format';
  text: string;
}

const STILL_COPYING = 'the file ends early: still copying?';

function short(what: string, needs: number, has: number): ContainerProblem {
  return {
    kind: 'frame-truncated',
    text: `${STILL_COPYING} (${what} needs ${needs.toLocaleString('en-US')} bytes; it has ${has.toLocaleString('en-US')})`,
  };
}

/** Whether a WebP, GIF, BMP, AVIF/HEIC or TIFF file is as long as its structure says. */
export function checkContainer(bytes: Buffer, format: SourceFormat): ContainerProblem | undefined {
  switch (format) {
    case 'webp': {
      const needs = bytes.readUInt32LE(4) + 8;
      return needs > bytes.length ? short('the WebP', needs, bytes.length) : undefined;
    }
    case 'gif':
      // Every GIF ends with its trailer byte (0x3B).
      return bytes[bytes.length - 1] === 0x3b
        ? undefined
        : { kind: 'frame-truncated', text: `${STILL_COPYING} (the GIF has no trailer)` };
    case 'bmp': {
      const needs = Math.max(bytes.readUInt32LE(2), bytes.readUInt32LE(10));
      return needs > bytes.length ? short('the BMP', needs, bytes.length) : undefined;
    }
    case 'avif':
    case 'heic':
      return checkBoxes(bytes, FORMAT_NAMES[format]);
    case 'tiff':
      return checkTiff(bytes);
    default:
      return undefined;
  }
}

/** ISO-BMFF: every top-level box (ftyp, meta, mdat, …) lies inside the file. */
function checkBoxes(bytes: Buffer, name: string): ContainerProblem | undefined {
  let at = 0;
  while (at + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(at);
    if (size === 1) {
      if (at + 16 > bytes.length) return short(`the ${name}`, at + 16, bytes.length);
      size = Number(bytes.readBigUInt64BE(at + 8));
    } else if (size === 0) return undefined; // the last box runs to the end of the file
    if (size < 8)
      return { kind: 'frame-format', text: `the ${name} is damaged: a box of ${size} bytes (a bad copy?)` };
    if (at + size > bytes.length) return short(`the ${name}`, at + size, bytes.length);
    at += size;
  }
  return at === bytes.length ? undefined : short(`the ${name}`, at + 8, bytes.length);
}

/** TIFF: the first directory, and the first picture's strips (or tiles), lie inside the file. */
function checkTiff(bytes: Buffer): ContainerProblem | undefined {
  const little = bytes[0] === 0x49;
  const at = little ? bytes.readUInt32LE(4) : bytes.readUInt32BE(4);
  // Writers often put the directory after the pixels: a copy cut short loses it first.
  if (at + 2 > bytes.length) return short('the TIFF', at + 2, bytes.length);
  const entries = little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at);
  if (at + 2 + entries * 12 > bytes.length) return short('the TIFF', at + 2 + entries * 12, bytes.length);
  const ifd = readTiffIfd(bytes);
  if (!ifd) return undefined; // decoding will say what is wrong
  const offsets = ifd.get(273) ?? ifd.get(324) ?? [];
  const counts = ifd.get(279) ?? ifd.get(325) ?? [];
  let needs = 0;
  for (let i = 0; i < Math.min(offsets.length, counts.length); i++)
    needs = Math.max(needs, offsets[i]! + counts[i]!);
  return needs > bytes.length ? short('the TIFF', needs, bytes.length) : undefined;
}

/**
 * Whether a source is coded losslessly (so it is sent as PNG, not re-compressed to JPEG): PNG, GIF, BMP, TIFF
 * unless its compression is JPEG, WebP whose picture is a VP8L chunk.
 */
export function isLossless(bytes: Buffer, format: SourceFormat): boolean {
  switch (format) {
    case 'png':
    case 'gif':
    case 'bmp':
      return true;
    case 'tiff': {
      const compression = readTiffIfd(bytes)?.get(259)?.[0];
      return compression !== 6 && compression !== 7;
    }
    case 'webp':
      for (let at = 12; at + 8 <= bytes.length; ) {
        const fourcc = bytes.toString('latin1', at, at + 4);
        if (fourcc === 'VP8L') return true;
        if (fourcc === 'VP8 ') return false;
        at += 8 + bytes.readUInt32LE(at + 4) + (bytes.readUInt32LE(at + 4) % 2);
      }
      return false;
    default:
      return false;
  }
}
