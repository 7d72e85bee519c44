import { join } from 'node:path';
import { defaultCacheDir } from '../../util/cache-dir.js';

/**
 * Frame preparation: frames are converted to what the API takes (PNG or JPEG), turned upright (EXIF
 * orientation) and fitted to limits before anything is sent. Set per call (`loadPlan(…, { prepare })`, the CLI's
 * `--no-prepare`), else by a job's `prepare:`, else these defaults.
 */
export interface PrepareOptions {
  /**
   * Prepare frames. `false` restores the strict behaviour of flf2v 0.1: only PNG and JPEG, sent byte for byte as
   * they are. @default true
   */
  enabled?: boolean;
  /** The longer side of a frame as sent, px; larger frames are scaled down. @default 4096 */
  maxSidePx?: number;
  /** A frame as sent, bytes; larger ones are recompressed or scaled down. @default 10 MiB (10,485,760) */
  maxBytes?: number;
  /** Where prepared frames are kept (by source bytes and recipe). @default <flf2v cache dir>/frames */
  cacheDir?: string;
}

export type ResolvedPrepareOptions = Readonly<Required<PrepareOptions>>;

export const DEFAULT_PREPARE_OPTIONS: Readonly<Required<Omit<PrepareOptions, 'cacheDir'>>> = Object.freeze({
  enabled: true,
  maxSidePx: 4096,
  maxBytes: 10 * 1024 * 1024,
});

/**
 * `fit_last`: make a task's last frame the first frame's size, so a pair always matches: `cover` scales it to
 * fill and crops the overflow (centred), `contain` scales it to fit and pads with black (transparent for a PNG
 * with alpha), `none` sends it as it is. @default 'none'
 */
export const FIT_LAST = ['cover', 'contain', 'none'] as const;
export type FitLast = (typeof FIT_LAST)[number];

/** A prepared frame smaller than this on its longer side would not be a usable video frame. */
export const MIN_SIDE_PX = 64;
/** Sources larger than this are not read at all (a frame, not a print master). */
export const SOURCE_MAX_BYTES = 256 * 1024 * 1024;

/** Why a value cannot be used, or undefined. The same checks for job files and for scripts. */
export function prepareOptionProblem(
  key: 'maxSidePx' | 'maxBytes',
  value: unknown,
  providerMaxBytes: number,
): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) return 'expected a whole number';
  if (key === 'maxSidePx' && value < MIN_SIDE_PX) return `expected at least ${MIN_SIDE_PX} px`;
  if (key === 'maxBytes' && (value < 64 * 1024 || value > providerMaxBytes)) {
    return `expected from 65,536 to ${providerMaxBytes.toLocaleString('en-US')} bytes (the provider's limit)`;
  }
  return undefined;
}

/** Call options over the job's over the defaults. Values are checked where they enter (CLI, job file). */
export function resolvePrepareOptions(...layers: (PrepareOptions | undefined)[]): ResolvedPrepareOptions {
  const merged: Required<PrepareOptions> = {
    ...DEFAULT_PREPARE_OPTIONS,
    cacheDir: join(defaultCacheDir(), 'frames'),
  };
  for (const layer of layers.reverse()) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
  }
  return Object.freeze(merged);
}
