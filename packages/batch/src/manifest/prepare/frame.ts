import { createHash } from 'node:crypto';
import { type ImageFacts, orientationText, swapsSides } from '../image-check.js';
import type { ProblemKind } from '../problems.js';
import type { FrameRef } from '../types.js';
import { type CachedFrame, type PreparedFrameCache, recipeKey } from './cache.js';
import { FORMAT_NAMES, type SourceFormat } from './formats.js';
import type { ResolvedPrepareOptions } from './options.js';
import { loadSharp, megabytes, RenderProblem, type RenderTarget, render } from './render.js';

/** A frame file as read: its bytes, what they are, and what is known of the picture before decoding it. */
export interface SourceFrame {
  /** Absolute path. */
  path: string;
  display: string;
  bytes: Buffer;
  sha256: string;
  format: SourceFormat;
  /** Stored size, px, orientation and sample depth: from the header (PNG, JPEG) or from sharp's metadata. */
  facts: Pick<ImageFacts, 'width' | 'height' | 'orientation' | 'bitDepth'> & { cmyk: boolean };
}

export type FrameOutcome = { ref: FrameRef } | { problem: { kind: ProblemKind; text: string } };

/** What preparation needs: the options and the cache of prepared frames. */
export interface Preparer {
  options: ResolvedPrepareOptions;
  cache: PreparedFrameCache;
}

/**
 * Why a frame must be prepared before it is sent; empty when it goes as it is (today's bytes, today's key).
 * Judged from header facts only: a PNG or JPEG that needs nothing is never decoded.
 */
export function reasonsToPrepare(
  source: SourceFrame,
  options: ResolvedPrepareOptions,
  exact?: RenderTarget['exact'],
): string[] {
  const { format, facts } = source;
  const reasons: string[] = [];
  if (format !== 'png' && format !== 'jpeg') reasons.push(`converted from ${FORMAT_NAMES[format]}`);
  if (facts.orientation !== 1) {
    reasons.push(
      `turned upright (EXIF orientation ${facts.orientation}: ${orientationText(facts.orientation)})`,
    );
  }
  if (exact) {
    const how = exact.mode === 'cover' ? 'scaled to fill, then cropped' : 'scaled to fit, then padded';
    reasons.push(
      `made ${exact.width}×${exact.height} like the first frame (fit_last: ${exact.mode}: ${how})`,
    );
  } else if (Math.max(facts.width, facts.height) > options.maxSidePx) {
    const [w, h] = swapsSides(facts.orientation) ? [facts.height, facts.width] : [facts.width, facts.height];
    reasons.push(`scaled down from ${w}×${h} to fit ${options.maxSidePx} px`);
  }
  if (facts.bitDepth > 8) reasons.push(`${facts.bitDepth}-bit to 8-bit`);
  if (facts.cmyk) reasons.push('CMYK to RGB');
  if (source.bytes.length > options.maxBytes)
    reasons.push(`${megabytes(source.bytes.length)}, over ${megabytes(options.maxBytes)}`);
  return reasons;
}

/** The frame as sent, prepared from `source` (or taken from the cache): a FrameRef to the prepared file. */
export async function prepareFrame(
  source: SourceFrame,
  reasons: string[],
  preparer: Preparer,
  exact?: RenderTarget['exact'],
): Promise<FrameOutcome> {
  const target: RenderTarget = {
    maxSidePx: preparer.options.maxSidePx,
    maxBytes: preparer.options.maxBytes,
    ...(exact ? { exact } : {}),
  };
  const sharp = await loadSharp();
  const key = recipeKey(source.sha256, target, { sharp: sharp.versions.sharp, vips: sharp.versions.vips });
  let made: CachedFrame | undefined = await preparer.cache.get(key);
  if (!made) {
    let rendered: Awaited<ReturnType<typeof render>>;
    try {
      rendered = await render(source.bytes, source.format, target);
    } catch (error) {
      if (error instanceof RenderProblem)
        return { problem: { kind: error.kind, text: `${source.display}: ${error.message}` } };
      throw error;
    }
    try {
      made = { ...rendered, path: await preparer.cache.put(key, rendered) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const text = `${source.display}: cannot keep the prepared frame in ${preparer.cache.dir} (${reason}); set FLF2V_CACHE_DIR to a writable directory`;
      return { problem: { kind: 'frame-missing', text } };
    }
  }
  const turned = swapsSides(source.facts.orientation);
  const ref: FrameRef = {
    kind: 'file',
    path: made.path,
    display: source.display,
    sha256: createHash('sha256').update(made.bytes).digest('hex'),
    bytes: made.bytes.length,
    format: made.format,
    width: made.width,
    height: made.height,
    prepared: {
      source: {
        path: source.path,
        sha256: source.sha256,
        format: source.format,
        bytes: source.bytes.length,
        width: turned ? source.facts.height : source.facts.width,
        height: turned ? source.facts.width : source.facts.height,
        ...(source.facts.orientation !== 1 ? { orientation: source.facts.orientation } : {}),
      },
      steps: [...reasons, ...made.notes],
    },
  };
  return { ref };
}
