import type { OptionProblem } from './errors.js';

/** Collects problems while option values are checked; every checker returns the normalized value or undefined. */
export class Checker {
  readonly problems: OptionProblem[] = [];

  fail(key: string, expected: string, found: unknown): undefined {
    this.problems.push({ key, expected, found: showFound(found) });
    return undefined;
  }

  int(key: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    return this.fail(key, `a whole number ${range}`, value);
  }

  fraction(key: string, value: unknown): number | undefined {
    if (typeof value === 'number' && value >= 0 && value <= 1) return value;
    return this.fail(key, 'a number from 0 to 1', value);
  }

  /** Milliseconds: a number, or a string such as `500ms`, `5s`, `2m`, `1h`. */
  durationMs(key: string, value: unknown, { positive = false } = {}): number | undefined {
    const ms = parseDurationMs(value);
    if (ms !== undefined && (!positive || ms > 0)) return ms;
    const what = positive ? 'a duration > 0' : 'a duration >= 0';
    return this.fail(key, `${what} in ms (a number, or a string like "500ms", "5s", "2m")`, value);
  }

  oneOf<T extends string | number>(key: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (allowed.includes(value as T)) return value as T;
    return this.fail(key, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }

  text(key: string, value: unknown): string | undefined {
    if (typeof value === 'string' && value.length > 0) return value;
    return this.fail(key, 'a non-empty string', value);
  }

  record(key: string, value: unknown): Record<string, unknown> | undefined {
    if (isRecord(value)) return value;
    return this.fail(key, 'a mapping of options', value);
  }

  /** Report keys of `value` not in `known`. */
  unknownKeys(prefix: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const k of Object.keys(value)) {
      if (!known.includes(k)) {
        this.problems.push({
          key: `${prefix}${k}`,
          expected: `one of ${known.join(', ')}`,
          found: 'an unknown option',
        });
      }
    }
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RegExp);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1));
}

/** Show a found value briefly: strings quoted, objects as short JSON. */
export function showFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value.length > 60 ? `${JSON.stringify(value.slice(0, 57))}...` : JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value instanceof RegExp) return String(value);
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 60 ? `${json.slice(0, 57)}...` : json;
  } catch {
    return String(value);
  }
}
