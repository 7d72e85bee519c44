import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOptions } from './_check-options.js';
import { SimulatorConfigError } from './errors.js';
import type { ResolvedSimulatorOptions, SimulatorOptions } from './types.js';

const MiB = 1024 * 1024;

/**
 * What the simulator does when given no options: a provider with moderate limits, tasks that take a few
 * seconds, and no faults. Each default is repeated in the README's table.
 */
export const DEFAULT_SIMULATOR_OPTIONS: Readonly<ResolvedSimulatorOptions> =
  deepFreeze<ResolvedSimulatorOptions>({
    port: 0,
    host: '127.0.0.1',
    key: undefined,
    seed: undefined,
    clock: Date.now,
    timings: {
      pendingMs: 1000,
      runningMs: { '720p': 4000, '1080p': 8000 },
      jitterRatio: 0.1,
      urlTtlMs: 60 * 60_000, // 1 h
    },
    limits: {
      submit: { max: 60, windowMs: 60_000 },
      query: { max: 600, windowMs: 60_000 },
      upload: null,
      maxRunningPerKey: 5,
      overCapacity: 'queue',
      promptMaxChars: 2000,
      negativePromptMaxChars: 2000,
      maxImageBytes: 20 * MiB,
      maxBodyBytes: 1 * MiB,
      frameAspectRange: [0.25, 4],
      framePairRatioRange: [0.8, 1.25],
    },
    responses: {
      statusShape: 'array',
      resultShape: 'object',
      progressStyle: 'percent',
      validationErrors: 'code',
      retryAfterFormat: 'seconds',
    },
    moderationPattern: /\[sim:moderation\]/i,
    failPattern: /\[sim:fail\]/i,
    failureRate: 0,
    faults: [],
    render: 'fixture',
    renderCacheDir: join(tmpdir(), 'flf2v-simulator-renders'),
    requestLogLimit: 50_000,
    taskFile: undefined,
    uploadDir: undefined,
  });

/**
 * The demo's provider (`flf2v run --simulator`): tasks take two to four seconds, limits generous enough that a
 * small job never waits on them, no faults, and videos that move from the first frame to the last when ffmpeg
 * is on PATH (so a rehearsed storyboard can be watched, and joined into a film).
 */
export const DEMO_PRESET: Readonly<SimulatorOptions> = deepFreeze<SimulatorOptions>({
  timings: { pendingMs: 500, runningMs: { '720p': 2000, '1080p': 3000 }, jitterRatio: 0.2 },
  limits: {
    submit: { max: 600, windowMs: 60_000 },
    query: { max: 6000, windowMs: 60_000 },
    maxRunningPerKey: 4,
  },
  faults: [],
  render: 'ffmpeg',
});

/** Apply checked `partial` over `base`: groups merge field by field, everything else replaces. */
export function mergeOptions(
  base: ResolvedSimulatorOptions,
  partial: SimulatorOptions,
): ResolvedSimulatorOptions {
  const { timings, limits, responses, moderationPattern, failPattern, ...rest } = partial;
  const merged: ResolvedSimulatorOptions = {
    ...base,
    ...stripUndefined(rest),
    timings: { ...base.timings, ...stripUndefined(timings ?? {}) },
    limits: { ...base.limits, ...stripUndefined(limits ?? {}) },
    responses: { ...base.responses, ...stripUndefined(responses ?? {}) },
  };
  // Patterns arrive as RegExp or null once checked.
  if (moderationPattern !== undefined) merged.moderationPattern = moderationPattern as RegExp | null;
  if (failPattern !== undefined) merged.failPattern = failPattern as RegExp | null;
  if ('key' in partial) merged.key = partial.key;
  return merged;
}

/** Check `input` (every problem at once) and resolve it over `base`. Throws SimulatorConfigError. */
export function resolveSimulatorOptions(
  input: SimulatorOptions | undefined,
  base: ResolvedSimulatorOptions = DEFAULT_SIMULATOR_OPTIONS,
): ResolvedSimulatorOptions {
  const { options, problems } = checkOptions(input, 'code');
  if (problems.length > 0) throw new SimulatorConfigError(problems);
  return mergeOptions(base, options);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Freeze nested plain objects and arrays (not functions or RegExps), so shared defaults cannot be changed. */
function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object' && !(value instanceof RegExp)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
