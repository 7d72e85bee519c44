import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import type { Sharp, SharpOptions } from 'sharp';
import { formatBytes } from '../bytes.js';
import { FORMAT_NAMES, isLossless, type SourceFormat } from './formats.js';
import { MIN_SIDE_PX } from './options.js';

/**
 * Making the frame that is sent, with sharp (libvips): decode (BMP through bmp-ts, which libvips's prebuilt
 * build lacks), turn upright by EXIF orientation, convert to 8-bit sRGB, fit, encode. Everything that shapes
 * the bytes is fixed here, so one source and one target always give the same bytes with one sharp version.
 *
 * Output: PNG when the picture has alpha or the source was lossless (PNG, GIF, BMP, TIFF, lossless WebP), JPEG
 * (quality 92, no chroma subsampling) for photographic sources (JPEG, lossy WebP, AVIF). Over the byte limit,
 * an opaque PNG becomes a JPEG, a JPEG steps its quality down to 76, then the picture is scaled by 0.8 steps.
 */

type SharpModule = typeof import('sharp');

let loading: Promise<SharpModule> | undefined;

/**
 * Frames decoded at once: one per core. libvips already uses the cores for one picture; more at once only
 * multiplies the memory (a 12-megapixel photo is ~36 MB decoded) without going faster.
 */
const rendering = new PQueue({ concurrency: Math.max(1, availableParallelism()) });

/** sharp, loaded on first use only: a plan with nothing to prepare never loads libvips. */
export function loadSharp(): Promise<SharpModule> {
  loading ??= import('sharp').then((m) => {
    const sharp = m.default;
    // Each frame is made once: libvips's operation cache would only hold memory.
    sharp.cache(false);
    return sharp;
  });
  return loading;
}

export interface RenderTarget {
  /** The longer side may not exceed this, px. */
  maxSidePx: number;
  /** The encoded frame may not exceed this, bytes. */
  maxBytes: number;
  /** fit_last: exactly this size, cropped to fill (`cover`) or padded (`contain`). */
  exact?: { width: number; height: number; mode: 'cover' | 'contain' };
}

export interface Rendered {
  bytes: Buffer;
  format: 'png' | 'jpeg';
  width: number;
  height: number;
  /** What the fitting did beyond the recipe, for the plan ("re-encoded as JPEG to stay under 10 MB"). */
  notes: string[];
}

/** A frame that cannot be made: said to the user at the frame. */
export class RenderProblem extends Error {
  constructor(
    readonly kind: 'frame-format' | 'frame-too-large',
    message: string,
  ) {
    super(message);
  }
}

const DECODE: SharpOptions = { failOn: 'error' };
const JPEG_QUALITY = { start: 92, step: 8, floor: 76 };
const SCALE_STEP = 0.8;

interface Decodable {
  image: () => Sharp;
  alpha: boolean;
  pages: number;
}

async function open(sharp: SharpModule, bytes: Buffer, format: SourceFormat): Promise<Decodable> {
  if (format === 'bmp') {
    const { width, height, data, alpha } = await decodeBmp(bytes);
    return {
      image: () => {
        const raw = sharp(data, { raw: { width, height, channels: 4 } });
        return alpha ? raw : raw.removeAlpha();
      },
      alpha,
      pages: 1,
    };
  }
  const meta = await sharp(bytes, DECODE).metadata();
  return { image: () => sharp(bytes, DECODE), alpha: meta.hasAlpha === true, pages: meta.pages ?? 1 };
}

/** BMP through bmp-ts. Only a 32-bit BMP can carry alpha, and one whose alpha is all 0 or 255 does not. */
async function decodeBmp(bytes: Buffer) {
  const { decode } = await import('bmp-ts');
  const bmp = decode(bytes, { toRGBA: true });
  const data = bmp.data;
  const seen = new Set<number>();
  for (let i = 3; i < data.length && seen.size < 3; i += 4)
    seen.add(data[i] === 0 ? 0 : data[i] === 255 ? 255 : 1);
  // Every value the same (all 0: an unused byte; all 255: opaque) is no alpha.
  const alpha = bmp.bitPP === 32 && seen.size > 1;
  if (!alpha) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width: bmp.width, height: Math.abs(bmp.height), data, alpha };
}

/** Make the frame to send from a source's bytes. Throws RenderProblem for sources that cannot be made one. */
export function render(bytes: Buffer, format: SourceFormat, target: RenderTarget): Promise<Rendered> {
  return rendering.add(() => renderNow(bytes, format, target)) as Promise<Rendered>;
}

async function renderNow(bytes: Buffer, format: SourceFormat, target: RenderTarget): Promise<Rendered> {
  const sharp = await loadSharp();
  let source: Decodable;
  try {
    source = await open(sharp, bytes, format);
  } catch (error) {
    throw undecodable(format, error);
  }
  const lossless = isLossless(bytes, format);
  let output: Rendered['format'] = source.alpha || lossless ? 'png' : 'jpeg';
  let quality = JPEG_QUALITY.start;
  let box = target.maxSidePx;
  for (;;) {
    let image = source.image().rotate().toColourspace('srgb');
    if (target.exact) {
      const { width, height, mode } = target.exact;
      const background =
        output === 'png' && source.alpha ? { r: 0, g: 0, b: 0, alpha: 0 } : { r: 0, g: 0, b: 0, alpha: 1 };
      image = image.resize({ width, height, fit: mode, position: 'centre', background });
    } else {
      image = image.resize({ width: box, height: box, fit: 'inside', withoutEnlargement: true });
    }
    image = output === 'png' ? image.png() : image.jpeg({ quality, chromaSubsampling: '4:4:4' });
    let result: { data: Buffer; info: { width: number; height: number } };
    try {
      result = await image.toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw undecodable(format, error);
    }
    const { data, info } = result;
    if (data.length <= target.maxBytes) {
      const notes: string[] = [];
      if (source.pages > 1) notes.push(`first of its ${source.pages} frames`);
      const fitted: string[] = [];
      if (output === 'jpeg' && lossless && !source.alpha) fitted.push('as JPEG');
      if (quality < JPEG_QUALITY.start) fitted.push(`quality ${quality}`);
      if (box < target.maxSidePx) fitted.push(`scaled to ${info.width}×${info.height}`);
      if (fitted.length > 0) notes.push(`${fitted.join(', ')} to stay under ${megabytes(target.maxBytes)}`);
      return { bytes: data, format: output, width: info.width, height: info.height, notes };
    }
    if (output === 'png' && !source.alpha) output = 'jpeg';
    else if (output === 'jpeg' && quality - JPEG_QUALITY.step >= JPEG_QUALITY.floor)
      quality -= JPEG_QUALITY.step;
    else if (!target.exact && Math.max(info.width, info.height) * SCALE_STEP >= MIN_SIDE_PX) {
      box = Math.floor(Math.max(info.width, info.height) * SCALE_STEP);
    } else {
      throw new RenderProblem(
        'frame-too-large',
        `cannot be made ${formatBytes(target.maxBytes)} or smaller at ${info.width}×${info.height} (it is ${formatBytes(data.length)} as ${output.toUpperCase()})`,
      );
    }
  }
}

/** `10.0 MB` (MiB): for notes, where the exact limit is shown elsewhere. */
export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function undecodable(format: SourceFormat, error: unknown): RenderProblem {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
  return new RenderProblem(
    'frame-format',
    `cannot be decoded as ${FORMAT_NAMES[format]} (${reason}): damaged, or the file ends early (still copying?)`,
  );
}
