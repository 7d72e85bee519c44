import type { CallClass, CallGate, CallOutcome } from '@flf2v/core';

/**
 * One limiter per provider call class, shared by every stage of a run, plugged into the client as its
 * `CallGate` so retries pass through it too. Three mechanisms, each answering a different question:
 *
 * **When may the next request leave? (pace)** A class with a known limit (`--submit-rpm`, `--query-rpm`) is
 * paced evenly just under it. A 429 despite that means requests bunched up on the way (an event-loop stall, a
 * slow network hop) against a short provider window, not that the user's number is wrong: the safety margin
 * widens a step (up to `maxMargin`) instead of the rate being cut.
 *
 * **Where is an unknown limit? (adapt)** On a 429 the rate is cut to what the provider accepted during the
 * epoch that ended — successes divided by the epoch's length *including* the pause the 429 imposes. For a
 * fixed or sliding window of L requests per W this lands on L/W at the first 429. A cut needs a real run of
 * successes before it (`minRunForCut`): 429s that come whatever the rate (a flaky gateway, chaos testing)
 * arrive after a success or two, and cutting on each would spiral the rate to nothing. A cut at most halves
 * the rate. And a cut must help: if 429s keep coming at about the share they came before it, they are not
 * caused by the rate (a flaky gateway, chaos testing) — the cut is undone and the class stops cutting for
 * `noiseMs`, relying on the pauses alone; cutting on every such 429 would spiral the rate down to nothing.
 * After `quietMs` without a 429 the rate recovers additively, to find capacity that freed up.
 *
 * **How many at once? (window)** Each class has a concurrency window that starts small and grows by one per
 * success (slow start) and halves on a 429, so that when a limit is hit only a few requests are in flight to
 * receive 429s, rather than every queued one.
 *
 * **Is the provider down? (breaker)** After `breakerAfter` failures in a row that say the provider struggles
 * (5xx, broken connections, timeouts), the class pauses, from `breakerPauseMs` doubling up to
 * `maxBreakerPauseMs`, so an outage sees a trickle of probes rather than every task retrying on its own timer.
 *
 * And always: on a 429 the whole class pauses until `Retry-After` (or an exponential fallback when the server
 * gave none), so no request of that class leaves before the server said it may. 429s answering requests that
 * were already in flight when the class reacted count once.
 */

export interface LimiterOptions {
  /** Known limits in requests per minute, by class. */
  rpm?: Partial<Record<CallClass, number>>;
  /** Initial safety margin under a known limit. @default 0.02 */
  margin?: number;
  /** Largest margin that 429s under a known limit can widen it to. @default 0.15 */
  maxMargin?: number;
  /** Recovery per second after a quiet period, as a fraction of the rate set at the last cut. @default 0.02 */
  recoveryPerSecond?: number;
  /** No recovery until this long without a 429. @default 30_000 */
  quietMs?: number;
  /** Successes an epoch must hold before its 429 may cut the rate. @default 3 */
  minRunForCut?: number;
  /** After a cut that did not lower the share of 429s, how long 429s only pause, without cutting. @default 60_000 */
  noiseMs?: number;
  /** Pause after a 429 without Retry-After; doubles on consecutive ones. @default 1000 */
  fallbackPauseMs?: number;
  /** @default 60_000 */
  maxFallbackPauseMs?: number;
  /** Never adapt below this rate (requests per second). @default 0.5 */
  minRatePerSecond?: number;
  /** Consecutive 5xx / network / timeout failures that trip the breaker. @default 3 */
  breakerAfter?: number;
  /** First breaker pause; doubles while failures go on. @default 500 / 30_000 */
  breakerPauseMs?: number;
  maxBreakerPauseMs?: number;
  /** Concurrency window: initial and largest size. @default 2 / 256 */
  initialWindow?: number;
  maxWindow?: number;
  /** Monotonic ms. @default performance.now */
  now?: () => number;
}

/** A cut on trial: does the share of 429s fall after it? */
interface Trial {
  rateBefore: number;
  shareBefore: number;
  /** Answers are counted from here (429s answering requests sent before the pause are echoes). */
  from: number;
  requests: number;
  limited: number;
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
  margin: number;
  pausedUntil: number;
  window: number;
  inFlight: number;
  waiting: number;
  rateLimited: number;
}

type Settings = Required<Omit<LimiterOptions, 'rpm' | 'now'>>;

const RESOLVED = Promise.resolve();
const INF = Number.POSITIVE_INFINITY;

class ClassLimiter {
  readonly knownRpm?: number;
  private margin: number;
  private adaptive = INF;
  private cutRate = 0;
  private last429At = Number.NEGATIVE_INFINITY;
  private recoveredAt = 0;
  private nextSlot = 0;
  private pausedUntil = 0;
  private consecutive429 = 0;
  private failuresInRow = 0;
  private epochStart = Number.NaN; // set by the first request
  private epochSuccesses = 0;
  private epochRequests = 0;
  private epochLimited = 0;
  private trial?: Trial;
  private noiseUntil = Number.NEGATIVE_INFINITY;
  private echoesUntil = Number.NEGATIVE_INFINITY;
  private window: number;
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  private timer?: NodeJS.Timeout;
  rateLimited = 0;

  constructor(
    knownRpm: number | undefined,
    private readonly o: Settings,
    private readonly now: () => number,
  ) {
    this.knownRpm = knownRpm;
    this.margin = o.margin;
    this.window = o.initialWindow;
  }

  private known(): number {
    return this.knownRpm ? (this.knownRpm / 60) * (1 - this.margin) : INF;
  }

  rate(now: number): number {
    if (this.adaptive !== INF && now - this.last429At > this.o.quietMs && now > this.recoveredAt) {
      // Additive recovery, applied lazily, once the class has been quiet for a while.
      const from = Math.max(this.recoveredAt, this.last429At + this.o.quietMs);
      this.adaptive += (this.cutRate * this.o.recoveryPerSecond * (now - from)) / 1000;
      this.recoveredAt = now;
      if (this.adaptive >= this.known()) this.adaptive = INF;
    }
    return Math.min(this.known(), this.adaptive);
  }

  /** Grant now if the class is not paused, has a free slot in its window, and its pace allows. */
  private tryGrant(now: number): boolean {
    if (now < this.pausedUntil || this.inFlight >= this.window) return false;
    const rate = this.rate(now);
    if (rate !== INF) {
      if (now < this.nextSlot) return false;
      // The next slot is one interval after this grant, never earlier: no two requests back to back after idling.
      this.nextSlot = Math.max(this.nextSlot, now) + 1000 / rate;
    }
    this.inFlight++;
    return true;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.now();
    if (Number.isNaN(this.epochStart)) this.epochStart = now;
    if (this.queue.length === 0 && this.tryGrant(now)) return RESOLVED;
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

  /** Grant queued waiters while possible; otherwise wake up when the pause or the pace allows. */
  private schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = this.now();
    while (this.queue.length > 0 && this.tryGrant(now)) {
      const waiter = this.queue.shift()!;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    if (this.queue.length === 0 || this.inFlight >= this.window) return; // a settle will call again
    const rate = this.rate(now);
    const due = Math.max(this.pausedUntil, rate === INF ? 0 : this.nextSlot);
    this.timer = setTimeout(() => this.schedule(), Math.max(1, due - now));
  }

  settle(outcome: CallOutcome): void {
    const now = this.now();
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (outcome.status !== undefined || outcome.rateLimited) {
      this.epochRequests++;
      if (outcome.rateLimited) this.epochLimited++;
      if (this.trial && now >= this.trial.from) {
        this.trial.requests++;
        if (outcome.rateLimited) this.trial.limited++;
      }
    }
    if (outcome.outage) {
      this.failuresInRow++;
      if (this.failuresInRow >= this.o.breakerAfter) {
        const pause = this.o.breakerPauseMs * 2 ** Math.min(this.failuresInRow - this.o.breakerAfter, 16);
        this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(this.o.maxBreakerPauseMs, pause));
      }
      this.schedule();
      return;
    }
    if (!outcome.rateLimited) {
      if (outcome.status !== undefined) {
        this.epochSuccesses++;
        this.consecutive429 = 0;
        this.failuresInRow = 0;
        if (this.window < this.o.maxWindow) this.window++;
      }
      if (this.queue.length > 0) this.schedule();
      return;
    }
    this.rateLimited++;
    this.consecutive429++;
    const pauseMs =
      outcome.retryAfterMs ??
      Math.min(
        this.o.maxFallbackPauseMs,
        this.o.fallbackPauseMs * 2 ** Math.min(this.consecutive429 - 1, 16),
      );
    this.pausedUntil = Math.max(this.pausedUntil, now + pauseMs);
    this.nextSlot = Math.max(this.nextSlot, this.pausedUntil);
    // One reaction per congestion event: 429s answering requests sent before the last reaction's pause ended
    // (plus a little time for answers in flight) are echoes of it and say nothing new. A refusal because too
    // many tasks are running says nothing about the request rate either (the runner learns that cap).
    if (outcome.limit !== 'concurrency' && now >= this.echoesUntil) {
      this.react(now);
      this.echoesUntil = Math.max(this.pausedUntil, now + 200);
    }
    this.last429At = now;
    this.schedule();
  }

  private react(now: number): void {
    this.window = Math.max(1, Math.floor(this.window / 2));
    const share = this.epochLimited / Math.max(1, this.epochRequests);
    const trial = this.trial;
    let decided = true;
    if (trial && trial.requests < 5) {
      decided = false; // too early to judge the last cut: hold it, cut no further
    } else if (trial && trial.limited / trial.requests >= trial.shareBefore / 2) {
      // The last cut did not make 429s rarer: they are not about the rate. Undo it and stop cutting a while.
      this.adaptive = trial.rateBefore;
      this.trial = undefined;
      this.noiseUntil = now + this.o.noiseMs;
      decided = false;
    } else {
      this.trial = undefined; // the last cut worked (or there was none): this is a new congestion event
    }
    if (decided) {
      if (this.knownRpm && this.margin < this.o.maxMargin) {
        this.margin = Math.min(this.o.maxMargin, this.margin + 0.02);
      } else if (now >= this.noiseUntil && this.epochSuccesses >= this.o.minRunForCut) {
        const epochSeconds = Math.max(0.001, (this.pausedUntil - this.epochStart) / 1000);
        const accepted = this.epochSuccesses / epochSeconds;
        const current = this.rate(now);
        const halved = current === INF ? 0 : current / 2;
        const next = Math.max(accepted, halved, this.o.minRatePerSecond);
        if (next < current) {
          this.trial = {
            rateBefore: this.adaptive,
            shareBefore: share,
            from: this.pausedUntil,
            requests: 0,
            limited: 0,
          };
          this.adaptive = next;
          this.cutRate = next;
          this.recoveredAt = this.pausedUntil;
        }
      }
    }
    this.epochStart = this.pausedUntil;
    this.epochSuccesses = 0;
    this.epochRequests = 0;
    this.epochLimited = 0;
  }

  snapshot(): ClassSnapshot {
    return {
      ratePerSecond: this.rate(this.now()),
      knownRpm: this.knownRpm,
      margin: this.margin,
      pausedUntil: this.pausedUntil,
      window: this.window,
      inFlight: this.inFlight,
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
    // Monotonic: a sleep of the machine must not read as a long quiet epoch (see `clock.ts`).
    const now = options.now ?? (() => performance.now());
    const o: Settings = {
      margin: options.margin ?? 0.02,
      maxMargin: options.maxMargin ?? 0.15,
      recoveryPerSecond: options.recoveryPerSecond ?? 0.02,
      quietMs: options.quietMs ?? 30_000,
      minRunForCut: options.minRunForCut ?? 3,
      noiseMs: options.noiseMs ?? 60_000,
      fallbackPauseMs: options.fallbackPauseMs ?? 1000,
      maxFallbackPauseMs: options.maxFallbackPauseMs ?? 60_000,
      minRatePerSecond: options.minRatePerSecond ?? 0.5,
      breakerAfter: options.breakerAfter ?? 3,
      breakerPauseMs: options.breakerPauseMs ?? 500,
      maxBreakerPauseMs: options.maxBreakerPauseMs ?? 30_000,
      initialWindow: options.initialWindow ?? 2,
      maxWindow: options.maxWindow ?? 256,
    };
    const make = (cls: CallClass) => new ClassLimiter(options.rpm?.[cls], o, now);
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
