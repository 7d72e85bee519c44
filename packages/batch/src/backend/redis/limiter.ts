import type { CallClass, CallGate, CallOutcome, Logger } from '@flf2v/core';
import { Flf2vError } from '@flf2v/core/rules';
import type { Redis } from 'ioredis';
import {
  byClass,
  type ClassSnapshot,
  type GateOptions,
  paceConfigs,
  windowSettings,
} from '../../gate/options.js';
import type { PaceConfig } from '../../gate/pace.js';
import { CallWindow, type WindowSettings } from '../../gate/window.js';
import { RedisKeys } from './keys.js';
import { type PaceCall, PaceScript } from './pace-script.js';

/**
 * The call gate every worker process on one API key uses, so that all of them together behave like one
 * in-process `RateLimiter`: one pace per call class under a known limit, one 429 pause, one learned rate for
 * an unknown limit (`gate/pace.ts`, run in Redis by `pace-lua.ts` on Redis time). What bounds a process's own
 * requests stays in the process: the concurrency window (slow start) and the outage breaker (`gate/window.ts`).
 *
 * A waiter is granted through one script call (all waiters of a class that fit the window at once); when the
 * class is paced or paused, the script says how long until the next slot, and the process sleeps that long
 * (plus up to `jitterMs`) before asking again: no polling, and no request leaves before Redis said it may.
 *
 * Redis keys, one hash per call class and API key (`RedisKeys.limit`):
 *   `flf2v:{fp}:limit:upload|submit|query|download` — the class's `PaceState`. TTL: `idleTtlMs` after the last
 *   call, counted from the end of its pause or next slot; so an API key has four of them at most, gone an hour
 *   after its last worker stopped. Soft state, kept out of the append-only file (see `pace-lua.ts`): a
 *   restarted Redis starts the classes afresh.
 *
 * Errors: `acquire` rejects with `E_BACKEND` when Redis does not answer within `timeoutMs` or fails the call
 * (every waiter of the class then), and with the signal's reason when aborted. `settle` cannot fail: a settle
 * that does not reach Redis is logged (`logger.warn`) and lost (its class merely learns less).
 */

export interface RedisLimiterOptions extends GateOptions {
  /** An ioredis connection; the gate neither connects nor quits it. */
  redis: Redis;
  /** The API key's fingerprint (an HMAC, never the key): the prefix of the gate's keys, `flf2v:{fp}:`. */
  fp: string;
  /** How long one call to Redis may take before `acquire` rejects with `E_BACKEND`, ms. @default 5000 */
  timeoutMs?: number;
  /** A class's shared state expires this long after its last use, ms. @default 3_600_000 (1 h) */
  idleTtlMs?: number;
  /** Up to this much (and at most a twentieth of the wait) is added at random to a wait, ms. @default 10 */
  jitterMs?: number;
  /** Where settles that did not reach Redis are reported. */
  logger?: Pick<Logger, 'warn'>;
  /** The process's monotonic ms, for the window and breaker. @default performance.now */
  now?: () => number;
  /** A [0, 1) source for the jitter. @default Math.random */
  random?: () => number;
}

export const DEFAULT_REDIS_LIMITER = Object.freeze({ timeoutMs: 5000, idleTtlMs: 3_600_000, jitterMs: 10 });

const FP = /^[A-Za-z0-9_-]{1,128}$/;

export class RedisRateLimiter implements CallGate {
  private readonly classes: Record<CallClass, SharedClass>;
  private readonly pending = new Set<Promise<void>>();

  /** Throws `E_CONFIG` on an `fp` that is not 1–128 of [A-Za-z0-9_-]. */
  constructor(options: RedisLimiterOptions) {
    if (typeof options.fp !== 'string' || !FP.test(options.fp)) {
      throw new Flf2vError('E_CONFIG', 'Expected `fp` to be 1 to 128 characters of [A-Za-z0-9_-]', {
        retryable: false,
      });
    }
    const script = new PaceScript(options.redis, options.timeoutMs ?? DEFAULT_REDIS_LIMITER.timeoutMs);
    const configs = paceConfigs(options);
    const window = windowSettings(options);
    const shared: Shared = {
      script,
      window,
      idleTtlMs: options.idleTtlMs ?? DEFAULT_REDIS_LIMITER.idleTtlMs,
      jitterMs: options.jitterMs ?? DEFAULT_REDIS_LIMITER.jitterMs,
      now: options.now ?? (() => performance.now()),
      random: options.random ?? Math.random,
      track: (p) => {
        const settled = p.then(
          () => {},
          (error: unknown) => {
            options.logger?.warn({ err: String(error) }, 'a rate-limiter settle did not reach Redis');
          },
        );
        this.pending.add(settled);
        void settled.finally(() => this.pending.delete(settled));
      },
    };
    const keys = new RedisKeys(options.fp);
    this.classes = byClass((cls) => new SharedClass(keys.limit(cls), configs[cls], shared));
  }

  /** Resolves when the call may be sent. Rejects with `E_BACKEND`, or the signal's reason when aborted. */
  acquire(callClass: CallClass, signal?: AbortSignal): Promise<void> {
    return this.classes[callClass].acquire(signal);
  }

  settle(callClass: CallClass, outcome: CallOutcome): void {
    this.classes[callClass].settle(outcome);
  }

  /** The class as every worker shares it, plus this process's window; `pausedUntil` on this process's clock. */
  snapshot(callClass: CallClass): Promise<ClassSnapshot> {
    return this.classes[callClass].snapshot();
  }

  /** Resolves when every settle made so far reached Redis (or failed): before quitting the connection. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Reject everyone still waiting (the worker is stopping). */
  close(error: unknown): void {
    for (const c of Object.values(this.classes)) c.close(error);
  }
}

interface Shared {
  script: PaceScript;
  window: WindowSettings;
  idleTtlMs: number;
  jitterMs: number;
  now: () => number;
  random: () => number;
  /** Watch a settle in flight (for `drain` and the log). */
  track: (settle: Promise<unknown>) => void;
}

class SharedClass {
  private readonly w: CallWindow;
  private readonly call: PaceCall;
  /** A grant call is out. */
  private asking = false;
  /** Sleeping until Redis said the next slot may be granted. */
  private timer?: NodeJS.Timeout;

  constructor(
    key: string,
    private readonly config: PaceConfig,
    private readonly s: Shared,
  ) {
    this.w = new CallWindow(s.window);
    this.call = { key, config, idleTtlMs: s.idleTtlMs };
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const granted = this.w.enqueue(signal);
    this.pump();
    return granted;
  }

  /**
   * Ask Redis for as many slots as there are waiters that fit the window — unless a call is out or a wait
   * is running (either ends in another pump), or the window is full (a settle pumps again).
   */
  private pump(): void {
    if (this.asking || this.timer || this.w.waiting === 0) return;
    const now = this.s.now();
    if (now < this.w.breakerUntil) {
      this.sleep(this.w.breakerUntil - now);
      return;
    }
    const want = Math.min(this.w.waiting, this.w.room);
    if (want === 0) return;
    this.asking = true;
    this.s.script.grant(this.call, want).then(
      ({ granted, waitMs }) => {
        this.asking = false;
        // Slots granted to waiters that left meanwhile lapse: one paced interval unused, nothing sent.
        for (let i = 0; i < granted && this.w.grantNext(); i++);
        if (granted < want) this.sleep(waitMs + this.s.random() * Math.min(this.s.jitterMs, waitMs / 20));
        else this.pump();
      },
      (error: unknown) => {
        this.asking = false;
        this.w.close(error); // E_BACKEND (pace-script.ts)
      },
    );
  }

  private sleep(ms: number): void {
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, ms),
    );
  }

  settle(outcome: CallOutcome): void {
    this.w.release(outcome, this.s.now());
    const reply = this.s.script.settle(this.call, outcome);
    if (outcome.rateLimited && outcome.limit !== 'concurrency') {
      void reply.then(
        (event) => this.w.congested(event),
        () => {},
      );
    }
    this.s.track(reply);
    this.pump();
  }

  async snapshot(): Promise<ClassSnapshot> {
    const { now, ratePerSecond, state } = await this.s.script.read(this.call);
    return {
      ratePerSecond,
      knownRpm: this.config.knownRpm,
      margin: state.margin,
      pausedUntil: Math.max(
        state.pausedUntil > now ? this.s.now() + state.pausedUntil - now : 0,
        this.w.breakerUntil,
      ),
      window: this.w.window,
      inFlight: this.w.inFlight,
      waiting: this.w.waiting,
      rateLimited: state.rateLimited,
    };
  }

  close(error: unknown): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.w.close(error);
  }
}
