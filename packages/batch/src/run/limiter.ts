import type { CallClass, CallGate, CallOutcome } from '@flf2v/core';

/**
 * One limiter per provider call class, shared by every stage of a run, plugged into the client as its
 * `CallGate` so retries pass through it too.
 *
 * A class with a known limit (`--submit-rpm`, `--query-rpm`) is paced evenly at that rate. Every class also
 * adapts, known limit or not:
 * - on a 429 the whole class pauses until `Retry-After` (or an exponential fallback when the server gave none),
 *   so no request of that class leaves before the server said it may;
 * - the rate is cut to what the provider actually accepted during the last epoch — successes divided by the
 *   epoch's length including the pause. For a fixed- or sliding-window limit of L per window this lands on
 *   L per window at the first 429;
 * - but only when the epoch held a real run of successes (`minRunForCut`): a volume limit answers 429 after
 *   its capacity is used up, whereas 429s that come regardless of the rate (a flaky gateway, chaos testing)
 *   arrive after a few successes whatever we do, and cutting on those would spiral the rate down to nothing.
 *   Each cut at most halves the rate, and there is a floor;
 * - the rate then recovers additively (a share of the cut rate per second) to find capacity that frees up.
 * Only one cut per congestion event: 429s answering requests that were already in flight do not cut again.
 * Known weak spot: a token bucket with a small burst answers 429 after short runs too, so it is paced by
 * Retry-After pauses rather than by a learned rate.
 */

export interface LimiterOptions {
  /** Known limits in requests per minute, by class. */
  rpm?: Partial<Record<CallClass, number>>;
  /** Safety margin under a known limit, so clock skew and reordering do not cross it. @default 0.02 */
  margin?: number;
  /** Recovery per second, as a fraction of the rate set at the last cut. @default 0.03 */
  recoveryPerSecond?: number;
  /** Successes an epoch must hold before its 429 may cut the rate. @default 10 */
  minRunForCut?: number;
  /** Pause after a 429 without Retry-After; doubles on consecutive ones. @default 1000 */
  fallbackPauseMs?: number;
  /** @default 60_000 */
  maxFallbackPauseMs?: number;
  /** Never adapt below this rate (requests per second). @default 0.5 */
  minRatePerSecond?: number;
  now?: () => number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export interface ClassSnapshot {
  /** Requests per second currently allowed (Infinity: unlimited). */
  ratePerSecond: number;
  knownRpm?: number;
  pausedUntil: number;
  waiting: number;
  rateLimited: number;
}

const RESOLVED = Promise.resolve();

class ClassLimiter {
  private readonly known: number; // per second, Infinity when unknown
  private adaptive = Number.POSITIVE_INFINITY;
  private cutRate = 0;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private recoveredAt = 0;
  private nextSlot = 0;
  pausedUntil = 0;
  private consecutive429 = 0;
  private epochStart = Number.NaN; // set by the first request
  private epochSuccesses = 0;
  private readonly queue: Waiter[] = [];
  private timer?: NodeJS.Timeout;
  rateLimited = 0;

  constructor(
    knownRpm: number | undefined,
    private readonly opts: Required<Omit<LimiterOptions, 'rpm' | 'now'>>,
    private readonly now: () => number,
  ) {
    this.known = knownRpm ? (knownRpm / 60) * (1 - opts.margin) : Number.POSITIVE_INFINITY;
    this.knownRpm = knownRpm;
  }

  readonly knownRpm?: number;

  rate(now: number): number {
    if (this.adaptive !== Number.POSITIVE_INFINITY && now > this.recoveredAt) {
      // Additive recovery, applied lazily.
      const seconds = (now - this.recoveredAt) / 1000;
      this.adaptive += this.cutRate * this.opts.recoveryPerSecond * seconds;
      this.recoveredAt = now;
      if (this.adaptive >= this.known) this.adaptive = Number.POSITIVE_INFINITY;
    }
    return Math.min(this.known, this.adaptive);
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.now();
    if (Number.isNaN(this.epochStart)) this.epochStart = now;
    if (this.queue.length === 0 && now >= this.pausedUntil) {
      const rate = this.rate(now);
      if (rate === Number.POSITIVE_INFINITY) return RESOLVED;
      if (now >= this.nextSlot) {
        this.nextSlot = Math.max(this.nextSlot, now - 1000 / rate) + 1000 / rate;
        return RESOLVED;
      }
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const now = this.now();
    const rate = this.rate(now);
    const due = Math.max(this.pausedUntil, rate === Number.POSITIVE_INFINITY ? 0 : this.nextSlot);
    if (due <= now) {
      this.release(now, rate);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, due - now);
  }

  private release(now: number, rate: number): void {
    // Unlimited: release everyone; limited: one per slot.
    while (this.queue.length > 0) {
      const waiter = this.queue.shift()!;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
      if (rate !== Number.POSITIVE_INFINITY) {
        this.nextSlot = Math.max(this.nextSlot, now - 1000 / rate) + 1000 / rate;
        break;
      }
    }
    this.schedule();
  }

  settle(outcome: CallOutcome): void {
    const now = this.now();
    if (!outcome.rateLimited) {
      if (outcome.status !== undefined) {
        this.epochSuccesses++;
        this.consecutive429 = 0;
      }
      return;
    }
    this.rateLimited++;
    this.consecutive429++;
    const pauseMs =
      outcome.retryAfterMs ??
      Math.min(
        this.opts.maxFallbackPauseMs,
        this.opts.fallbackPauseMs * 2 ** Math.min(this.consecutive429 - 1, 16),
      );
    this.pausedUntil = Math.max(this.pausedUntil, now + pauseMs);
    // One cut per congestion event: answers to requests already in flight when we cut say nothing new.
    const cooledDown = now - this.lastCutAt > Math.max(1000, Math.min(pauseMs, 10_000));
    if (cooledDown && this.epochSuccesses >= this.opts.minRunForCut) {
      const epochSeconds = Math.max(0.001, (this.pausedUntil - this.epochStart) / 1000);
      const accepted = this.epochSuccesses / epochSeconds;
      const current = this.rate(now);
      const halved = current === Number.POSITIVE_INFINITY ? 0 : current / 2;
      const next = Math.max(accepted, halved, this.opts.minRatePerSecond);
      if (next < current) {
        this.adaptive = next;
        this.cutRate = next;
        this.lastCutAt = now;
        this.recoveredAt = this.pausedUntil;
        this.nextSlot = this.pausedUntil;
      }
    }
    if (cooledDown) {
      this.epochStart = this.pausedUntil;
      this.epochSuccesses = 0;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule();
  }

  snapshot(): ClassSnapshot {
    return {
      ratePerSecond: this.rate(this.now()),
      knownRpm: this.knownRpm,
      pausedUntil: this.pausedUntil,
      waiting: this.queue.length,
      rateLimited: this.rateLimited,
    };
  }

  close(error: unknown): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.queue.splice(0)) w.reject(error);
  }
}

export class RateLimiter implements CallGate {
  private readonly classes: Record<CallClass, ClassLimiter>;

  constructor(options: LimiterOptions = {}) {
    const now = options.now ?? Date.now;
    const opts = {
      margin: options.margin ?? 0.02,
      recoveryPerSecond: options.recoveryPerSecond ?? 0.03,
      minRunForCut: options.minRunForCut ?? 10,
      fallbackPauseMs: options.fallbackPauseMs ?? 1000,
      maxFallbackPauseMs: options.maxFallbackPauseMs ?? 60_000,
      minRatePerSecond: options.minRatePerSecond ?? 0.5,
    };
    const make = (cls: CallClass) => new ClassLimiter(options.rpm?.[cls], opts, now);
    this.classes = {
      upload: make('upload'),
      submit: make('submit'),
      query: make('query'),
      download: make('download'),
    };
  }

  acquire(callClass: CallClass, signal?: AbortSignal): Promise<void> {
    return this.classes[callClass].acquire(signal);
  }

  settle(callClass: CallClass, outcome: CallOutcome): void {
    this.classes[callClass].settle(outcome);
  }

  snapshot(callClass: CallClass): ClassSnapshot {
    return this.classes[callClass].snapshot();
  }

  /** Reject everyone still waiting (the run is stopping). */
  close(error: unknown): void {
    for (const c of Object.values(this.classes)) c.close(error);
  }
}
