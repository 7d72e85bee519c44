import type { CallOutcome } from '@flf2v/core';
import type { Redis } from 'ioredis';
import type { PaceConfig, PaceState } from '../../gate/pace.js';
import { withTimeout } from './connection.js';
import { PACE_SETTINGS } from './pace-lua.js';
import { type RedisScripts, withScripts } from './scripts.js';
import { backendError } from './store.js';

/**
 * Typed calls of the pace script (`pace-lua.ts`, registered with the backend's others in `scripts.ts`) on one
 * ioredis connection. Every call either answers within `timeoutMs` or rejects with `E_BACKEND` (Redis
 * unreachable, too slow, or an error reply); none hangs. Calls on one connection reach Redis in the order they
 * were made, so a settle is applied before the grant that follows it.
 */

export interface Grant {
  /** Slots taken (0 … wanted). */
  granted: number;
  /** When fewer were granted than wanted: ms (Redis time) until the next may be; 0 otherwise. */
  waitMs: number;
  /** The class's congestion event count (`PaceState.event`). */
  event: number;
}

/** A class's shared state as the script reads it. */
export interface PaceRead {
  /** Redis time of the read, ms. */
  now: number;
  /** Requests per second allowed now (Infinity: unlimited). */
  ratePerSecond: number;
  state: PaceState;
}

export interface PaceCall {
  key: string;
  config: PaceConfig;
  /** The hash expires this long after its last use, ms. */
  idleTtlMs: number;
  /** Only the contract test sets a time; otherwise the script reads Redis `TIME`. */
  now?: number;
}

export class PaceScript {
  private readonly redis: Redis & RedisScripts;

  constructor(
    redis: Redis,
    private readonly timeoutMs: number,
  ) {
    this.redis = withScripts(redis);
  }

  /** Take up to `want` slots now. Rejects with `E_BACKEND`. */
  async grant(call: PaceCall, want: number): Promise<Grant> {
    const [granted, waitMs, event] = (await this.run(call, 'grant', [String(want)])) as [
      number,
      string,
      number,
    ];
    return { granted, waitMs: Number(waitMs), event };
  }

  /** Report an answer; resolves to the class's congestion event count after it. Rejects with `E_BACKEND`. */
  async settle(call: PaceCall, o: CallOutcome): Promise<number> {
    const args = [
      o.status === undefined ? '' : String(o.status),
      o.rateLimited ? '1' : '0',
      o.retryAfterMs === undefined ? '' : String(o.retryAfterMs),
      o.limit ?? '',
      o.outage ? '1' : '0',
    ];
    const [event] = (await this.run(call, 'settle', args)) as [number];
    return event;
  }

  /** The class's state, unchanged. Rejects with `E_BACKEND`. */
  async read(call: PaceCall): Promise<PaceRead> {
    const [now, rate, ...flat] = (await this.run(call, 'read', [])) as string[];
    return { now: decode(now!), ratePerSecond: decode(rate!), state: decodeState(flat) };
  }

  private async run(call: PaceCall, op: string, extra: string[]): Promise<unknown> {
    const c = call.config;
    const args = [
      op,
      call.now === undefined ? '' : String(call.now),
      String(call.idleTtlMs),
      c.knownRpm ? String(c.knownRpm) : '',
      ...PACE_SETTINGS.map((k) => String(c[k])),
      ...extra,
    ];
    try {
      return await withTimeout(this.redis.flf2vPace(call.key, ...args), this.timeoutMs);
    } catch (cause) {
      throw backendError("the shared rate limiter's call to Redis failed", cause);
    }
  }
}

/** A `PaceState` from the script's field, value, field, value, … (as HGETALL returns the hash, too). */
export function decodeState(flat: readonly string[]): PaceState {
  const state: Record<string, unknown> = {};
  const trial: Record<string, number> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [field, value] = [flat[i]!, flat[i + 1]!];
    if (field === 'v') continue;
    if (field.startsWith('trial.')) trial[field.slice('trial.'.length)] = decode(value);
    else state[field] = decode(value);
  }
  if (trial.from !== undefined) state.trial = trial;
  return state as unknown as PaceState;
}

function decode(v: string): number {
  if (v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-inf') return Number.NEGATIVE_INFINITY;
  if (v === 'nan') return Number.NaN;
  return Number(v);
}
