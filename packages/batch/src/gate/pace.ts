import type { CallOutcome } from '@flf2v/core';

/**
 * The pace of one provider call class: when the next request may leave (pace), how long a 429 stops the class
 * (pause), and where an unknown limit lies (adapt). The one definition of these rules: the in-process
 * `RateLimiter` (`run/limiter.ts`) runs these functions on a state in memory; the Redis gate
 * (`backend/redis/pace-lua.ts`) is a line-by-line Lua port of them over the same state kept in a Redis hash,
 * so that every worker on an API key obeys one pace; `test/gate/pace-contract.test.ts` runs the same
 * scenarios, and random ones step by step, against both. Change one, change the other.
 *
 * **Pace.** A class with a known limit (`--submit-rpm`, `--query-rpm`) is paced evenly just under it. A 429
 * despite that means requests bunched up on the way (an event-loop stall, a slow network hop) against a short
 * provider window, not that the user's number is wrong: the safety margin widens a step (up to `maxMargin`)
 * instead of the rate being cut.
 *
 * **Adapt.** On a 429 an unknown limit's rate is cut to what the provider accepted during the epoch that ended
 * — successes divided by the epoch's length *including* the pause the 429 imposes. For a fixed or sliding
 * window of L requests per W this lands on L/W at the first 429. A cut needs a real run of successes before it
 * (`minRunForCut`), and at most halves the rate. And a cut must help: if 429s keep coming at about the share
 * they came before it, they are not caused by the rate (a flaky gateway, chaos testing) — the cut is undone
 * and the class stops cutting for `noiseMs`, relying on the pauses alone; cutting on every such 429 would
 * spiral the rate down to nothing. After `quietMs` without a 429 the rate recovers additively, to find
 * capacity that freed up.
 *
 * **Pause.** On a 429 the whole class pauses until `Retry-After` (or an exponential fallback when the server
 * gave none), so no request of that class leaves before the server said it may. 429s answering requests that
 * were already in flight when the class reacted are echoes of that reaction and count once; each reaction
 * counts a congestion `event` (the per-process concurrency window halves once per event it saw a 429 of).
 *
 * Times are ms on one clock that only the caller reads (`performance.now()` in process, Redis `TIME` in
 * Redis); rates are requests per second.
 */

export interface PaceSettings {
  /** Initial safety margin under a known limit. @default 0.02 */
  margin: number;
  /** Largest margin that 429s under a known limit can widen it to. @default 0.15 */
  maxMargin: number;
  /** Recovery per second after a quiet period, as a fraction of the rate set at the last cut. @default 0.02 */
  recoveryPerSecond: number;
  /** No recovery until this long without a 429, ms. @default 30_000 */
  quietMs: number;
  /** Successes an epoch must hold before its 429 may cut the rate. @default 3 */
  minRunForCut: number;
  /** After a cut that did not lower the share of 429s, how long 429s only pause, without cutting, ms. @default 60_000 */
  noiseMs: number;
  /** Pause after a 429 without Retry-After, ms; doubles on consecutive ones. @default 1000 */
  fallbackPauseMs: number;
  /** @default 60_000 */
  maxFallbackPauseMs: number;
  /** Never adapt below this rate (requests per second). @default 0.5 */
  minRatePerSecond: number;
}

export const DEFAULT_PACE: Readonly<PaceSettings> = Object.freeze({
  margin: 0.02,
  maxMargin: 0.15,
  recoveryPerSecond: 0.02,
  quietMs: 30_000,
  minRunForCut: 3,
  noiseMs: 60_000,
  fallbackPauseMs: 1000,
  maxFallbackPauseMs: 60_000,
  minRatePerSecond: 0.5,
});

/** The settings of one class: the shared ones and its known limit, if any (requests per minute). */
export interface PaceConfig extends PaceSettings {
  knownRpm?: number;
}

/** A cut on trial: does the share of 429s fall after it? */
export interface Trial {
  rateBefore: number;
  shareBefore: number;
  /** Answers are counted from here (429s answering requests sent before the pause are echoes). */
  from: number;
  requests: number;
  limited: number;
}

/** Everything the rules remember about a class. Plain numbers, so that Redis can hold it as a hash. */
export interface PaceState {
  margin: number;
  /** The adaptive rate, requests per second; Infinity: no cut. */
  adaptive: number;
  /** The rate set by the last cut (the unit of recovery). */
  cutRate: number;
  last429At: number;
  recoveredAt: number;
  /** No grant before this time (the pace). */
  nextSlot: number;
  /** No grant before this time (a 429's pause). */
  pausedUntil: number;
  consecutive429: number;
  /** NaN until the class first sees a request. */
  epochStart: number;
  epochSuccesses: number;
  epochRequests: number;
  epochLimited: number;
  trial?: Trial;
  noiseUntil: number;
  echoesUntil: number;
  /** 429s seen. */
  rateLimited: number;
  /** Congestion events reacted to (429s that were not echoes). */
  event: number;
}

const INF = Number.POSITIVE_INFINITY;

export function newPace(c: PaceConfig): PaceState {
  return {
    margin: c.margin,
    adaptive: INF,
    cutRate: 0,
    last429At: -INF,
    recoveredAt: 0,
    nextSlot: 0,
    pausedUntil: 0,
    consecutive429: 0,
    epochStart: Number.NaN,
    epochSuccesses: 0,
    epochRequests: 0,
    epochLimited: 0,
    noiseUntil: -INF,
    echoesUntil: -INF,
    rateLimited: 0,
    event: 0,
  };
}

function known(s: PaceState, c: PaceConfig): number {
  return c.knownRpm ? (c.knownRpm / 60) * (1 - s.margin) : INF;
}

/** Requests per second allowed now (Infinity: unlimited). Applies the additive recovery, lazily. */
export function paceRate(s: PaceState, c: PaceConfig, now: number): number {
  if (s.adaptive !== INF && now - s.last429At > c.quietMs && now > s.recoveredAt) {
    const from = Math.max(s.recoveredAt, s.last429At + c.quietMs);
    s.adaptive += (s.cutRate * c.recoveryPerSecond * (now - from)) / 1000;
    s.recoveredAt = now;
    if (s.adaptive >= known(s, c)) s.adaptive = INF;
  }
  return Math.min(known(s, c), s.adaptive);
}

/** The class saw a request (or an answer): its first epoch starts now. */
export function paceBegin(s: PaceState, now: number): void {
  if (Number.isNaN(s.epochStart)) s.epochStart = now;
}

/** Take a slot now if the class is not paused and its pace allows; false: not before `paceDue`. */
export function paceGrant(s: PaceState, c: PaceConfig, now: number): boolean {
  if (now < s.pausedUntil) return false;
  const rate = paceRate(s, c, now);
  if (rate !== INF) {
    if (now < s.nextSlot) return false;
    // The next slot is one interval after this grant, never earlier: no two requests back to back after idling.
    s.nextSlot = Math.max(s.nextSlot, now) + 1000 / rate;
  }
  return true;
}

/** The earliest time a grant may succeed (a past time: now). */
export function paceDue(s: PaceState, c: PaceConfig, now: number): number {
  const rate = paceRate(s, c, now);
  return Math.max(s.pausedUntil, rate === INF ? 0 : s.nextSlot);
}

/** What came back from a request: counts it in the epoch, pauses and reacts on a 429. */
export function paceSettle(s: PaceState, c: PaceConfig, outcome: CallOutcome, now: number): void {
  paceBegin(s, now);
  if (outcome.status !== undefined || outcome.rateLimited) {
    s.epochRequests++;
    if (outcome.rateLimited) s.epochLimited++;
    if (s.trial && now >= s.trial.from) {
      s.trial.requests++;
      if (outcome.rateLimited) s.trial.limited++;
    }
  }
  if (outcome.outage) return; // the per-process breaker's business
  if (!outcome.rateLimited) {
    if (outcome.status !== undefined) {
      s.epochSuccesses++;
      s.consecutive429 = 0;
    }
    return;
  }
  s.rateLimited++;
  s.consecutive429++;
  const pauseMs =
    outcome.retryAfterMs ??
    Math.min(c.maxFallbackPauseMs, c.fallbackPauseMs * 2 ** Math.min(s.consecutive429 - 1, 16));
  s.pausedUntil = Math.max(s.pausedUntil, now + pauseMs);
  s.nextSlot = Math.max(s.nextSlot, s.pausedUntil);
  // One reaction per congestion event: 429s answering requests sent before the last reaction's pause ended
  // (plus a little time for answers in flight) are echoes of it and say nothing new. A refusal because too
  // many tasks are running says nothing about the request rate either (the runner learns that cap).
  if (outcome.limit !== 'concurrency' && now >= s.echoesUntil) {
    react(s, c, now);
    s.echoesUntil = Math.max(s.pausedUntil, now + 200);
  }
  s.last429At = now;
}

function react(s: PaceState, c: PaceConfig, now: number): void {
  s.event++;
  const share = s.epochLimited / Math.max(1, s.epochRequests);
  const trial = s.trial;
  let decided = true;
  if (trial && trial.requests < 5) {
    decided = false; // too early to judge the last cut: hold it, cut no further
  } else if (trial && trial.limited / trial.requests >= trial.shareBefore / 2) {
    // The last cut did not make 429s rarer: they are not about the rate. Undo it and stop cutting a while.
    s.adaptive = trial.rateBefore;
    s.trial = undefined;
    s.noiseUntil = now + c.noiseMs;
    decided = false;
  } else {
    s.trial = undefined; // the last cut worked (or there was none): this is a new congestion event
  }
  if (decided) {
    if (c.knownRpm && s.margin < c.maxMargin) {
      s.margin = Math.min(c.maxMargin, s.margin + 0.02);
    } else if (now >= s.noiseUntil && s.epochSuccesses >= c.minRunForCut) {
      const epochSeconds = Math.max(0.001, (s.pausedUntil - s.epochStart) / 1000);
      const accepted = s.epochSuccesses / epochSeconds;
      const current = paceRate(s, c, now);
      const halved = current === INF ? 0 : current / 2;
      const next = Math.max(accepted, halved, c.minRatePerSecond);
      if (next < current) {
        s.trial = {
          rateBefore: s.adaptive,
          shareBefore: share,
          from: s.pausedUntil,
          requests: 0,
          limited: 0,
        };
        s.adaptive = next;
        s.cutRate = next;
        s.recoveredAt = s.pausedUntil;
      }
    }
  }
  s.epochStart = s.pausedUntil;
  s.epochSuccesses = 0;
  s.epochRequests = 0;
  s.epochLimited = 0;
}
