import type { CallClass, CallGate, CallOutcome } from '@flf2v/core';
import {
  byClass,
  type ClassSnapshot,
  type GateOptions,
  paceConfigs,
  windowSettings,
} from '../gate/options.js';
import {
  newPace,
  type PaceConfig,
  type PaceState,
  paceBegin,
  paceDue,
  paceGrant,
  paceRate,
  paceSettle,
} from '../gate/pace.js';
import { CallWindow, type WindowSettings } from '../gate/window.js';

/**
 * One limiter per provider call class, shared by every stage of a run, plugged into the client as its
 * `CallGate` so retries pass through it too; everything in this process's memory. Its rules live in
 * `gate/pace.ts` (when the next request may leave, 429 pauses, adapting to an unknown limit) and
 * `gate/window.ts` (the concurrency window and the outage breaker); the Redis gate
 * (`backend/redis/limiter.ts`) shares the pace across processes with the same rules.
 */

export interface LimiterOptions extends GateOptions {
  /** Monotonic ms. @default performance.now */
  now?: () => number;
}

export type { ClassSnapshot };

const RESOLVED = Promise.resolve();

class ClassLimiter {
  private readonly pace: PaceState;
  private readonly w: CallWindow;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly c: PaceConfig,
    window: WindowSettings,
    private readonly now: () => number,
  ) {
    this.pace = newPace(c);
    this.w = new CallWindow(window);
  }

  /** Grant now if the breaker is quiet, the window has a free slot, and the pace allows. */
  private tryGrant(now: number): boolean {
    return this.w.open(now) && paceGrant(this.pace, this.c, now);
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.now();
    paceBegin(this.pace, now);
    if (this.w.waiting === 0 && this.tryGrant(now)) {
      this.w.take();
      return RESOLVED;
    }
    const granted = this.w.enqueue(signal);
    this.schedule();
    return granted;
  }

  /** Grant queued waiters while possible; otherwise wake up when the pause or the pace allows. */
  private schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = this.now();
    while (this.w.waiting > 0 && this.tryGrant(now)) this.w.grantNext();
    if (this.w.waiting === 0 || this.w.room === 0) return; // a settle will call again
    const due = Math.max(this.w.breakerUntil, paceDue(this.pace, this.c, now));
    this.timer = setTimeout(() => this.schedule(), Math.max(1, due - now));
  }

  settle(outcome: CallOutcome): void {
    const now = this.now();
    this.w.release(outcome, now);
    paceSettle(this.pace, this.c, outcome, now);
    if (outcome.rateLimited && outcome.limit !== 'concurrency') this.w.congested(this.pace.event);
    if (this.w.waiting > 0) this.schedule();
  }

  snapshot(): ClassSnapshot {
    return {
      ratePerSecond: paceRate(this.pace, this.c, this.now()),
      knownRpm: this.c.knownRpm,
      margin: this.pace.margin,
      pausedUntil: Math.max(this.pace.pausedUntil, this.w.breakerUntil),
      window: this.w.window,
      inFlight: this.w.inFlight,
      waiting: this.w.waiting,
      rateLimited: this.pace.rateLimited,
    };
  }

  close(error: unknown): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.w.close(error);
  }
}

export class RateLimiter implements CallGate {
  private readonly classes: Record<CallClass, ClassLimiter>;

  constructor(options: LimiterOptions = {}) {
    // Monotonic: a sleep of the machine must not read as a long quiet epoch (see `clock.ts`).
    const now = options.now ?? (() => performance.now());
    const configs = paceConfigs(options);
    const window = windowSettings(options);
    this.classes = byClass((cls) => new ClassLimiter(configs[cls], window, now));
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
