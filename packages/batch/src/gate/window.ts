import type { CallOutcome } from '@flf2v/core';

/**
 * The per-process half of a call class's gate, the same in the in-process limiter and the Redis one: who waits
 * (in order, abortable), how many requests may be in flight at once, and the outage breaker. These bound a
 * process's own requests, so they stay local; the pace, pauses and rate learning are shared (`pace.ts`).
 *
 * **How many at once? (window)** A concurrency window that starts small and grows by one per success (slow
 * start) and halves once per congestion event this process saw a 429 of, so that when a limit is hit only a
 * few requests are in flight to receive 429s, rather than every queued one.
 *
 * **Is the provider down? (breaker)** After `breakerAfter` failures in a row that say the provider struggles
 * (5xx, broken connections, timeouts), the class pauses, from `breakerPauseMs` doubling up to
 * `maxBreakerPauseMs`, so an outage sees a trickle of probes rather than every task retrying on its own timer.
 *
 * Times are ms of the process's monotonic clock.
 */

export interface WindowSettings {
  /** Consecutive 5xx / network / timeout failures that trip the breaker. @default 3 */
  breakerAfter: number;
  /** First breaker pause, ms; doubles while failures go on. @default 500 */
  breakerPauseMs: number;
  /** @default 30_000 */
  maxBreakerPauseMs: number;
  /** Concurrency window: initial size. @default 2 */
  initialWindow: number;
  /** Concurrency window: largest size. @default 256 */
  maxWindow: number;
}

export const DEFAULT_WINDOW: Readonly<WindowSettings> = Object.freeze({
  breakerAfter: 3,
  breakerPauseMs: 500,
  maxBreakerPauseMs: 30_000,
  initialWindow: 2,
  maxWindow: 256,
});

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class CallWindow {
  window: number;
  inFlight = 0;
  /** The breaker's pause: no grant before this time. */
  breakerUntil = 0;
  private failuresInRow = 0;
  /** The last congestion event the window halved for. */
  private seenEvent = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly o: WindowSettings) {
    this.window = o.initialWindow;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Neither the breaker nor a full window holds a grant back at `now`. */
  open(now: number): boolean {
    return now >= this.breakerUntil && this.inFlight < this.window;
  }

  /** Free slots in the window. */
  get room(): number {
    return Math.max(0, this.window - this.inFlight);
  }

  /** Wait in line; an abort takes the waiter out and rejects with the signal's reason. */
  enqueue(signal: AbortSignal | undefined): Promise<void> {
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
    });
  }

  /** A slot was granted to a caller that did not wait in line: count it in flight. */
  take(): void {
    this.inFlight++;
  }

  /** Hand a granted slot to the first waiter; false when nobody waits any more (the slot is not taken). */
  grantNext(): boolean {
    const waiter = this.queue.shift();
    if (!waiter) return false;
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
    this.inFlight++;
    waiter.resolve();
    return true;
  }

  /** A granted request ended: free its slot, feed the breaker, grow the window on a success. */
  release(outcome: CallOutcome, now: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (outcome.outage) {
      this.failuresInRow++;
      if (this.failuresInRow >= this.o.breakerAfter) {
        const pause = this.o.breakerPauseMs * 2 ** Math.min(this.failuresInRow - this.o.breakerAfter, 16);
        this.breakerUntil = Math.max(this.breakerUntil, now + Math.min(this.o.maxBreakerPauseMs, pause));
      }
    } else if (!outcome.rateLimited && outcome.status !== undefined) {
      this.failuresInRow = 0;
      if (this.window < this.o.maxWindow) this.window++;
    }
  }

  /**
   * This process got a 429 of congestion event `event` (`PaceState.event`): halve once per event. Events only
   * grow, but a restarted Redis counts afresh: any other event than the last is a new one.
   */
  congested(event: number): void {
    if (event === this.seenEvent) return;
    this.seenEvent = event;
    this.window = Math.max(1, Math.floor(this.window / 2));
  }

  /** Reject everyone still waiting. */
  close(error: unknown): void {
    for (const w of this.queue.splice(0)) {
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.reject(error);
    }
  }
}
