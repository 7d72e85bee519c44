import { crc32 } from 'node:zlib';

/**
 * Whether a PNG or JPEG is whole, and what it is, read from its structure without decoding pixels: a frame
 * still being copied or synced validates, uploads and is paid for unless something looks at its end. The
 * bytes are in memory anyway (they are hashed), so walking their chunks and markers costs almost nothing.
 *
 * PNG: every chunk lies inside the file, the IEND chunk is reached, and the chunks pass their CRC (the image data's
 * last chunk only) (PNG spec §5.3, §11.2.5).
 * JPEG: every segment lies inside the file and the EOI marker ends the entropy-coded data (ITU T.81 §B.1).
 * Bytes after the end (phones append data after EOI) are allowed.
 */

export interface ImageFacts {
  format: 'png' | 'jpeg';
  /** Stored pixel size, px (before any EXIF orientation). */
  width: number;
  height: number;
  /** EXIF orientation, 1–8 (1: stored as displayed). JPEG APP1 Exif, PNG eXIf. */
  orientation: number;
  /** Bits per sample: PNG 1–16, JPEG 8 or 12. */
  bitDepth: number;
  /** Colour channels as stored: 1 grey, 2 grey + alpha, 3 colour, 4 colour + alpha (PNG) or CMYK (JPEG). */
  channels: number;
  /** PNG: colour type 3 (palette). */
  palette: boolean;
}

export type Inspection =
  | { ok: true; facts: ImageFacts }
  | { ok: false; kind: 'frame-truncated' | 'frame-format'; text: string };

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

/** Check a PNG (signature already seen) or a JPEG (SOI already seen) is whole, and read its facts. */
export function inspectImage(bytes: Buffer, format: 'png' | 'jpeg'): Inspection {
  return format === 'png' ? inspectPng(bytes) : inspectJpeg(bytes);
}

function endsEarly(bytes: Buffer, what: string): Inspection {
  const zeros = bytes.length - zeroTail(bytes);
  const after =
    zeros >= MIN_ZERO_TAIL
      ? `its last ${zeros.toLocaleString('en-US')} bytes are zeros`
      : `it has ${bytes.length.toLocaleString('en-US')} bytes`;
  return {
    ok: false,
    kind: 'frame-truncated',
    text: `the file ends early: still copying? (${what}; ${after})`,
  };
}

/**
 * A copy that reserves the whole size first leaves zeros where the rest will go. Such a tail (at least this
 * long) reached while reading a chunk makes a checksum fail: that is a file still arriving, not a damaged one.
 */
const MIN_ZERO_TAIL = 16;

/** Where the run of zero bytes that ends the file starts (the length when there is none). */
function zeroTail(bytes: Buffer): number {
  let i = bytes.length;
  while (i > 0 && bytes[i - 1] === 0) i--;
  return i;
}

function arrivingAt(bytes: Buffer, end: number): boolean {
  const tail = zeroTail(bytes);
  return bytes.length - tail >= MIN_ZERO_TAIL && tail < end;
}

function damaged(format: string, what: string): Inspection {
  return { ok: false, kind: 'frame-format', text: `the ${format} is damaged: ${what} (a bad copy?)` };
}

function newFacts(format: ImageFacts['format']): ImageFacts {
  return { format, width: 0, height: 0, orientation: 1, bitDepth: 8, channels: 3, palette: false };
}

function inspectPng(bytes: Buffer): Inspection {
  const facts = newFacts('png');
  let pos = 8;
  for (;;) {
    if (pos + 8 > bytes.length) return endsEarly(bytes, 'the PNG has no IEND chunk');
    const length = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) {
      if (arrivingAt(bytes, pos + 8)) return endsEarly(bytes, 'the PNG has no IEND chunk');
      return damaged('PNG', `expected a chunk at byte ${pos.toLocaleString('en-US')}, found other bytes`);
    }
    const end = pos + 12 + length;
    if (end > bytes.length) return endsEarly(bytes, `the PNG stops inside its ${type} chunk`);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    // Every chunk's CRC but the image data's, which is most of the file: of that, only the last chunk (where a
    // copy that stopped short shows), so checking costs a fraction of hashing.
    const lastData = type !== 'IDAT' || bytes.toString('latin1', end + 4, end + 8) !== 'IDAT';
    if (
      lastData &&
      crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== bytes.readUInt32BE(pos + 8 + length)
    ) {
      if (arrivingAt(bytes, end)) return endsEarly(bytes, `the PNG stops inside its ${type} chunk`);
      return damaged('PNG', `its ${type} chunk at byte ${pos.toLocaleString('en-US')} fails its checksum`);
    }
    if (type === 'IHDR' && length >= 13) {
      facts.width = data.readUInt32BE(0);
      facts.height = data.readUInt32BE(4);
      facts.bitDepth = data[8]!;
      facts.channels = PNG_CHANNELS[data[9]!] ?? 3;
      facts.palette = data[9] === 3;
    } else if (type === 'eXIf') {
      facts.orientation = exifOrientation(data) ?? 1;
    } else if (type === 'IEND') {
      return { ok: true, facts };
    }
    pos = end;
  }
}

/** SOFn markers that carry the frame size: C0–CF except DHT (C4), JPG (C8) and DAC (CC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function inspectJpeg(bytes: Buffer): Inspection {
  const facts = newFacts('jpeg');
  const noEnd = 'the JPEG has no end marker (EOI)';
  let exifSeen = false;
  let pos = 2;
  while (pos < bytes.length) {
    if (bytes[pos] !== 0xff) {
      // Stray bytes between segments: decoders skip to the next marker, and so do we.
      pos = bytes.indexOf(0xff, pos);
      if (pos < 0) break;
      continue;
    }
    while (pos < bytes.length && bytes[pos] === 0xff) pos++; // fill bytes
    if (pos >= bytes.length) break;
    const marker = bytes[pos++]!;
    if (marker === 0xd9) return { ok: true, facts };
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0x00) continue;
    if (pos + 2 > bytes.length) break;
    const length = bytes.readUInt16BE(pos);
    if (length < 2)
      return damaged('JPEG', `a segment at byte ${pos.toLocaleString('en-US')} has length ${length}`);
    if (pos + length > bytes.length) return endsEarly(bytes, 'the JPEG stops inside a segment');
    const segment = bytes.subarray(pos + 2, pos + length);
    pos += length;
    if (marker === 0xe1 && !exifSeen && segment.toString('latin1', 0, 6) === 'Exif\0\0') {
      exifSeen = true;
      facts.orientation = exifOrientation(segment.subarray(6)) ?? 1;
    } else if (isSof(marker) && segment.length >= 6) {
      facts.bitDepth = segment[0]!;
      facts.height = segment.readUInt16BE(1);
      facts.width = segment.readUInt16BE(3);
      facts.channels = segment[5]!;
    } else if (marker === 0xda) {
      // Entropy-coded data: runs to the next marker that is not a stuffed 0xFF00 or a restart marker.
      for (;;) {
        const at = bytes.indexOf(0xff, pos);
        if (at < 0 || at + 1 >= bytes.length) return endsEarly(bytes, noEnd);
        const next = bytes[at + 1]!;
        if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
          pos = at + 1;
          continue;
        }
        pos = at;
        break;
      }
    }
  }
  return endsEarly(bytes, noEnd);
}

/**
 * The entries of a TIFF structure's first IFD (EXIF blocks are TIFF structures too): tag → its values, for
 * SHORT and LONG values only (all this module needs). Undefined when the structure cannot be read.
 */
export function readTiffIfd(tiff: Uint8Array): Map<number, number[]> | undefined {
  if (tiff.length < 8) return undefined;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, little) !== 42) return undefined;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = new Map<number, number[]>();
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return entries;
    const type = view.getUint16(entry + 2, little);
    const size = type === 3 ? 2 : type === 4 ? 4 : 0;
    if (size === 0) continue;
    const n = view.getUint32(entry + 4, little);
    const at = n * size <= 4 ? entry + 8 : view.getUint32(entry + 8, little);
    if (at + n * size > tiff.length) continue;
    const values: number[] = [];
    for (let k = 0; k < n; k++) {
      values.push(size === 2 ? view.getUint16(at + k * 2, little) : view.getUint32(at + k * 4, little));
    }
    entries.set(view.getUint16(entry, little), values);
  }
  return entries;
}

/** The Orientation tag (0x0112) of a TIFF structure's first IFD, when it holds a valid value. */
export function exifOrientation(tiff: Uint8Array): number | undefined {
  const value = readTiffIfd(tiff)?.get(0x0112)?.[0];
  return value !== undefined && value >= 1 && value <= 8 ? value : undefined;
}

/** Orientations 5–8 turn the picture a quarter: width and height swap when displayed. */
export function swapsSides(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/** What an EXIF orientation does to the stored picture, for messages. */
export function orientationText(orientation: number): string {
  return (
    {
      2: 'mirrored',
      3: 'turned 180°',
      4: 'flipped upside down',
      5: 'mirrored and turned 90° counter-clockwise',
      6: 'turned 90° clockwise',
      7: 'mirrored and turned 90° clockwise',
      8: 'turned 90° counter-clockwise',
    }[orientation] ?? 'as stored'
  );
}
