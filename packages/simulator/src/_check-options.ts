import { Checker, isRecord } from './_check-values.js';
import type { OptionProblem } from './errors.js';
import {
  ENDPOINTS,
  FAULT_KINDS,
  type FaultRule,
  type LimitOptions,
  type ResponseOptions,
  type SimulatorOptions,
  type TimingOptions,
  type WindowLimit,
} from './types.js';

const TOP_KEYS = [
  'port',
  'host',
  'key',
  'seed',
  'clock',
  'timings',
  'limits',
  'responses',
  'moderationPattern',
  'failPattern',
  'failureRate',
  'faults',
  'render',
  'renderCacheDir',
  'requestLogLimit',
  'taskFile',
  'uploadDir',
] as const;
const TIMING_KEYS = ['pendingMs', 'runningMs', 'jitterRatio', 'urlTtlMs'] as const;
const LIMIT_KEYS = [
  'submit',
  'query',
  'upload',
  'maxRunningPerKey',
  'overCapacity',
  'promptMaxChars',
  'negativePromptMaxChars',
  'maxImageBytes',
  'maxBodyBytes',
  'frameAspectRange',
  'framePairRatioRange',
] as const;
const RESPONSE_KEYS = [
  'statusShape',
  'resultShape',
  'progressStyle',
  'validationErrors',
  'retryAfterFormat',
] as const;
const FAULT_KEYS = [
  'kind',
  'endpoints',
  'probability',
  'count',
  'status',
  'retryAfter',
  'retryAfterMs',
  'delayMs',
  'code',
  'message',
] as const;

export interface CheckedOptions {
  options: SimulatorOptions;
  problems: OptionProblem[];
}

/**
 * Check options as they enter (from code or a YAML file): every problem is collected; valid values come back
 * normalized (duration strings to ms, pattern strings to case-insensitive RegExps). `yaml` refuses what only
 * code can pass (a clock, functions).
 */
export function checkOptions(input: unknown, source: 'code' | 'yaml'): CheckedOptions {
  const c = new Checker();
  const out: SimulatorOptions = {};
  if (input === undefined || input === null) return { options: out, problems: [] };
  const raw = c.record('(options)', input);
  if (!raw) return { options: out, problems: c.problems };
  c.unknownKeys('', raw, source === 'yaml' ? TOP_KEYS.filter((k) => k !== 'clock') : TOP_KEYS);

  const set = <K extends keyof SimulatorOptions>(k: K, v: SimulatorOptions[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  if ('port' in raw) set('port', c.int('port', raw.port, 0, 65535));
  if ('host' in raw) set('host', c.text('host', raw.host));
  // Never echo a key back, not even a malformed one.
  if ('key' in raw) {
    if (typeof raw.key === 'string' && raw.key.length > 0) out.key = raw.key;
    else if (raw.key !== undefined) {
      c.problems.push({
        key: 'key',
        expected: 'a non-empty string',
        found: `a value of type ${typeof raw.key}`,
      });
    }
  }
  if ('seed' in raw && raw.seed !== undefined) set('seed', c.int('seed', raw.seed, 0, 2 ** 53 - 1));
  if ('clock' in raw && source === 'code' && raw.clock !== undefined) {
    if (typeof raw.clock === 'function') out.clock = raw.clock as () => number;
    else c.fail('clock', 'a function returning epoch ms', raw.clock);
  }
  if ('timings' in raw) set('timings', checkTimings(c, raw.timings, source));
  if ('limits' in raw) set('limits', checkLimits(c, raw.limits));
  if ('responses' in raw) set('responses', checkResponses(c, raw.responses));
  for (const k of ['moderationPattern', 'failPattern'] as const) {
    if (k in raw) {
      const p = checkPattern(c, k, raw[k]);
      if (p !== undefined) out[k] = p;
    }
  }
  if ('failureRate' in raw) set('failureRate', c.fraction('failureRate', raw.failureRate));
  if ('faults' in raw) set('faults', checkFaults(c, raw.faults));
  if ('render' in raw) set('render', c.oneOf('render', raw.render, ['fixture', 'ffmpeg'] as const));
  if ('renderCacheDir' in raw)
    set('renderCacheDir', raw.renderCacheDir === null ? null : c.text('renderCacheDir', raw.renderCacheDir));
  if ('requestLogLimit' in raw) set('requestLogLimit', c.int('requestLogLimit', raw.requestLogLimit, 0));
  if ('taskFile' in raw) set('taskFile', c.text('taskFile', raw.taskFile));
  if ('uploadDir' in raw) set('uploadDir', c.text('uploadDir', raw.uploadDir));
  return { options: out, problems: c.problems };
}

function checkTimings(
  c: Checker,
  value: unknown,
  source: 'code' | 'yaml',
): Partial<TimingOptions> | undefined {
  const raw = c.record('timings', value);
  if (!raw) return undefined;
  c.unknownKeys('timings.', raw, TIMING_KEYS);
  const out: Partial<TimingOptions> = {};
  if ('pendingMs' in raw) {
    const v = c.durationMs('timings.pendingMs', raw.pendingMs);
    if (v !== undefined) out.pendingMs = v;
  }
  if ('urlTtlMs' in raw) {
    const v = c.durationMs('timings.urlTtlMs', raw.urlTtlMs, { positive: true });
    if (v !== undefined) out.urlTtlMs = v;
  }
  if ('jitterRatio' in raw) {
    const v = c.fraction('timings.jitterRatio', raw.jitterRatio);
    if (v !== undefined) out.jitterRatio = v;
  }
  if ('runningMs' in raw) {
    const r = raw.runningMs;
    if (typeof r === 'function' && source === 'code') {
      out.runningMs = r as TimingOptions['runningMs'];
    } else if (isRecord(r)) {
      const table: Record<string, number> = {};
      let ok = true;
      for (const [k, v] of Object.entries(r)) {
        if (!/^(\*|[^/\s]+(\/\d+)?)$/.test(k)) {
          c.fail(`timings.runningMs.${k}`, 'a key like "720p/5", "720p" or "*"', k);
          ok = false;
          continue;
        }
        const ms = c.durationMs(`timings.runningMs.${k}`, v);
        if (ms === undefined) ok = false;
        else table[k] = ms;
      }
      if (ok) out.runningMs = table;
    } else {
      const ms = c.durationMs('timings.runningMs', r);
      if (ms !== undefined) out.runningMs = ms;
      else c.problems.at(-1)!.expected += ', or a table by resolution ("720p/5", "720p", "*")';
    }
  }
  return out;
}

function checkWindow(c: Checker, key: string, value: unknown): WindowLimit | null | undefined {
  if (value === null) return null;
  const raw = c.record(key, value);
  if (!raw) return undefined;
  c.unknownKeys(`${key}.`, raw, ['max', 'windowMs']);
  const max = c.int(`${key}.max`, raw.max, 1);
  const windowMs = c.durationMs(`${key}.windowMs`, raw.windowMs, { positive: true });
  return max !== undefined && windowMs !== undefined ? { max, windowMs } : undefined;
}

function checkRange(c: Checker, key: string, value: unknown): [number, number] | null | undefined {
  if (value === null) return null;
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0) &&
    value[0] <= value[1]
  ) {
    return [value[0], value[1]];
  }
  return c.fail(key, '[low, high] with 0 < low <= high, or null', value);
}

function checkLimits(c: Checker, value: unknown): Partial<LimitOptions> | undefined {
  const raw = c.record('limits', value);
  if (!raw) return undefined;
  c.unknownKeys('limits.', raw, LIMIT_KEYS);
  const out: Partial<LimitOptions> = {};
  const put = <K extends keyof LimitOptions>(k: K, v: LimitOptions[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  for (const k of ['submit', 'query', 'upload'] as const) {
    if (k in raw) put(k, checkWindow(c, `limits.${k}`, raw[k]));
  }
  if ('maxRunningPerKey' in raw) {
    put(
      'maxRunningPerKey',
      raw.maxRunningPerKey === null ? null : c.int('limits.maxRunningPerKey', raw.maxRunningPerKey, 1),
    );
  }
  if ('overCapacity' in raw) {
    put('overCapacity', c.oneOf('limits.overCapacity', raw.overCapacity, ['queue', 'reject'] as const));
  }
  for (const k of ['promptMaxChars', 'negativePromptMaxChars', 'maxImageBytes', 'maxBodyBytes'] as const) {
    if (k in raw) put(k, c.int(`limits.${k}`, raw[k], 1));
  }
  for (const k of ['frameAspectRange', 'framePairRatioRange'] as const) {
    if (k in raw) put(k, checkRange(c, `limits.${k}`, raw[k]));
  }
  return out;
}

function checkResponses(c: Checker, value: unknown): Partial<ResponseOptions> | undefined {
  const raw = c.record('responses', value);
  if (!raw) return undefined;
  c.unknownKeys('responses.', raw, RESPONSE_KEYS);
  const out: Partial<ResponseOptions> = {};
  const pick = <K extends keyof ResponseOptions>(k: K, allowed: readonly ResponseOptions[K][]) => {
    if (k in raw) {
      const v = c.oneOf(`responses.${k}`, raw[k], allowed as readonly (string | number)[]);
      if (v !== undefined) out[k] = v as ResponseOptions[K];
    }
  };
  pick('statusShape', ['array', 'object']);
  pick('resultShape', ['object', 'array']);
  pick('progressStyle', ['percent', 'number']);
  pick('validationErrors', ['code', 'http-400']);
  pick('retryAfterFormat', ['seconds', 'http-date']);
  return out;
}

function checkPattern(c: Checker, key: string, value: unknown): RegExp | null | undefined {
  if (value === null) return null;
  if (value instanceof RegExp) return value;
  if (typeof value === 'string' && value.length > 0) {
    try {
      return new RegExp(value, 'i');
    } catch {
      return c.fail(key, 'a valid regular expression', value);
    }
  }
  return c.fail(key, 'a regular expression (string) or null', value);
}

function checkFaults(c: Checker, value: unknown): FaultRule[] | undefined {
  if (!Array.isArray(value)) return c.fail('faults', 'a list of fault rules', value);
  const out: FaultRule[] = [];
  value.forEach((item, i) => {
    const key = `faults[${i}]`;
    const raw = c.record(key, item);
    if (!raw) return;
    c.unknownKeys(`${key}.`, raw, FAULT_KEYS);
    const kind = c.oneOf(`${key}.kind`, raw.kind, FAULT_KINDS);
    const rule: Partial<FaultRule> = {};
    if ('endpoints' in raw) {
      const list = Array.isArray(raw.endpoints) ? raw.endpoints : [raw.endpoints];
      const eps = list.map((e, j) => c.oneOf(`${key}.endpoints[${j}]`, e, ENDPOINTS));
      if (eps.every((e) => e !== undefined) && eps.length > 0) rule.endpoints = eps as FaultRule['endpoints'];
      else if (eps.length === 0) c.fail(`${key}.endpoints`, 'at least one endpoint', raw.endpoints);
    }
    if ('probability' in raw) rule.probability = c.fraction(`${key}.probability`, raw.probability);
    if ('count' in raw) rule.count = c.int(`${key}.count`, raw.count, 0);
    if ('status' in raw) rule.status = c.oneOf(`${key}.status`, raw.status, [500, 502, 503, 504] as const);
    if ('retryAfter' in raw) {
      rule.retryAfter = c.oneOf(`${key}.retryAfter`, raw.retryAfter, [
        'seconds',
        'http-date',
        'garbage',
        'none',
      ] as const);
    }
    if ('retryAfterMs' in raw) rule.retryAfterMs = c.durationMs(`${key}.retryAfterMs`, raw.retryAfterMs);
    if ('delayMs' in raw) rule.delayMs = c.durationMs(`${key}.delayMs`, raw.delayMs);
    if ('code' in raw) {
      const code = c.int(`${key}.code`, raw.code, -(2 ** 31), 2 ** 31);
      if (code === 0) c.fail(`${key}.code`, 'a non-zero provider code', 0);
      else rule.code = code;
    }
    if ('message' in raw) rule.message = c.text(`${key}.message`, raw.message);
    if (kind) {
      for (const [k, v] of Object.entries(rule)) if (v === undefined) delete rule[k as keyof FaultRule];
      out.push({ ...rule, kind });
    }
  });
  return out.length === value.length ? out : undefined;
}
