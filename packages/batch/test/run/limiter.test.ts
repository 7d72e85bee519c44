import type { CallClass, CallOutcome } from '@flf2v/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/run/limiter.js';

const OK: CallOutcome = { status: 200, rateLimited: false };
const limited = (retryAfterMs?: number): CallOutcome => ({ status: 429, rateLimited: true, retryAfterMs });

/**
 * `n` requests through the gate, each answered as soon as it is granted with `answer(i)` (default 200).
 * Returns the grant order so far.
 */
function serve(
  limiter: RateLimiter,
  n: number,
  answer: (i: number) => CallOutcome = () => OK,
  cls: CallClass = 'submit',
) {
  const granted: number[] = [];
  for (let i = 0; i < n; i++) {
    void limiter.acquire(cls).then(() => {
      granted.push(i);
      limiter.settle(cls, answer(i));
    });
  }
  return granted;
}

describe('RateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets everything through when no limit is known and no 429 was seen', async () => {
    const limiter = new RateLimiter();
    const granted = serve(limiter, 100);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(100);
  });

  it('starts with a small concurrency window that grows with each success (slow start)', async () => {
    const limiter = new RateLimiter({ initialWindow: 2 });
    const held: number[] = [];
    for (let i = 0; i < 10; i++) void limiter.acquire('query').then(() => held.push(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(held).toEqual([0, 1]);
    limiter.settle('query', OK);
    await vi.advanceTimersByTimeAsync(0);
    expect(held).toEqual([0, 1, 2, 3]); // one slot freed, the window grew by one
  });

  it('paces a known limit evenly, just under it', async () => {
    const limiter = new RateLimiter({ rpm: { submit: 60 }, margin: 0 });
    const granted = serve(limiter, 5);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(granted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(granted).toHaveLength(5);
  });

  it('never grants two requests back to back after the class was idle', async () => {
    const limiter = new RateLimiter({ rpm: { submit: 60 }, margin: 0 });
    serve(limiter, 1);
    await vi.advanceTimersByTimeAsync(5000); // idle
    const granted = serve(limiter, 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(granted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toHaveLength(2);
  });

  it('under a known limit a 429 widens the margin instead of distrusting the limit', async () => {
    const limiter = new RateLimiter({ rpm: { submit: 600 }, margin: 0.02 });
    serve(limiter, 20);
    await vi.advanceTimersByTimeAsync(2000);
    limiter.settle('submit', limited(100));
    const s = limiter.snapshot('submit');
    expect(s.margin).toBeCloseTo(0.04, 5);
    expect(s.ratePerSecond).toBeCloseTo(10 * 0.96, 5);
  });

  it('sends nothing of a class before its Retry-After, and other classes are unaffected', async () => {
    const limiter = new RateLimiter();
    limiter.settle('submit', limited(5000));
    const submits = serve(limiter, 3, () => OK, 'submit');
    const queries = serve(limiter, 3, () => OK, 'query');
    await vi.advanceTimersByTimeAsync(4999);
    expect(submits).toHaveLength(0);
    expect(queries).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(submits.length).toBeGreaterThan(0);
  });

  it('cuts an unknown limit to what was accepted over the epoch, pause included', async () => {
    const limiter = new RateLimiter();
    // 100 accepted within the first second of a 60 s window, then 429 until the window resets.
    serve(limiter, 100);
    await vi.advanceTimersByTimeAsync(1000);
    limiter.settle('submit', limited(59_000));
    const rate = limiter.snapshot('submit').ratePerSecond;
    expect(rate).toBeCloseTo(100 / 60, 1);
    // A second 429 from the same burst does not cut again.
    limiter.settle('submit', limited(59_000));
    expect(limiter.snapshot('submit').ratePerSecond).toBeCloseTo(rate, 5);
  });

  it('does not cut on a 429 that follows fewer successes than a real limit would allow', async () => {
    const limiter = new RateLimiter({ minRunForCut: 3 });
    serve(limiter, 2);
    await vi.advanceTimersByTimeAsync(0);
    limiter.settle('submit', limited(1000));
    expect(limiter.snapshot('submit').ratePerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(limiter.snapshot('submit').pausedUntil).toBe(1000);
  });

  it('undoes a cut that did not make 429s rarer (they are not about the rate), then only pauses', async () => {
    const limiter = new RateLimiter({ noiseMs: 60_000 });
    // One request offered every 100 ms for 30 s; every 5th answer is a 429, whatever the rate.
    let n = 0;
    const answer = () => (++n % 5 === 0 ? limited(100) : OK);
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 300; i++) {
      serve(limiter, 1, answer);
      await vi.advanceTimersByTimeAsync(100);
      lowest = Math.min(lowest, limiter.snapshot('submit').ratePerSecond);
    }
    expect(lowest).toBeLessThan(Number.POSITIVE_INFINITY); // it did try a cut
    expect(limiter.snapshot('submit').ratePerSecond).toBe(Number.POSITIVE_INFINITY); // and took it back
  });

  it('keeps a cut that made 429s rarer (a real limit)', async () => {
    const limiter = new RateLimiter();
    // A window of 5 per second: the burst gets 429s, paced requests do not.
    let inWindow: number[] = [];
    const answer = () => {
      const now = Date.now();
      inWindow = inWindow.filter((t) => now - t < 1000);
      if (inWindow.length >= 5) return limited(1000 - (now - inWindow[0]!));
      inWindow.push(now);
      return OK;
    };
    serve(limiter, 60, answer);
    await vi.advanceTimersByTimeAsync(20_000);
    const s = limiter.snapshot('submit');
    expect(s.ratePerSecond).toBeLessThanOrEqual(5);
    expect(s.rateLimited).toBeLessThanOrEqual(8);
  });

  it('at most halves the rate per congestion event', async () => {
    const limiter = new RateLimiter({ rpm: { submit: 600 }, margin: 0.15, maxMargin: 0.15 });
    serve(limiter, 20);
    await vi.advanceTimersByTimeAsync(2500);
    limiter.settle('submit', limited(60_000));
    expect(limiter.snapshot('submit').ratePerSecond).toBeCloseTo((10 * 0.85) / 2, 5);
  });

  it('backs off exponentially on 429s without Retry-After', async () => {
    const limiter = new RateLimiter({ fallbackPauseMs: 1000 });
    limiter.settle('query', limited());
    expect(limiter.snapshot('query').pausedUntil).toBe(1000);
    limiter.settle('query', limited());
    expect(limiter.snapshot('query').pausedUntil).toBe(2000);
  });

  it('recovers additively once quiet', async () => {
    const limiter = new RateLimiter({ recoveryPerSecond: 0.1, quietMs: 5000 });
    serve(limiter, 10);
    await vi.advanceTimersByTimeAsync(0);
    limiter.settle('submit', limited(9000));
    const cut = limiter.snapshot('submit').ratePerSecond;
    await vi.advanceTimersByTimeAsync(9000);
    expect(limiter.snapshot('submit').ratePerSecond).toBeCloseTo(cut, 5); // still within the quiet period
    await vi.advanceTimersByTimeAsync(10_000);
    expect(limiter.snapshot('submit').ratePerSecond).toBeCloseTo(cut * 2, 5);
  });

  it('halves the concurrency window on a 429', async () => {
    const limiter = new RateLimiter({ initialWindow: 16 });
    limiter.settle('download', limited(10));
    expect(limiter.snapshot('download').window).toBe(8);
  });

  it('pauses a class after failures in a row that say the provider is down (breaker), until one succeeds', async () => {
    const limiter = new RateLimiter({ breakerAfter: 3, breakerPauseMs: 500 });
    const down: CallOutcome = { status: 503, rateLimited: false, outage: true };
    limiter.settle('download', down);
    limiter.settle('download', down);
    expect(limiter.snapshot('download').pausedUntil).toBe(0);
    limiter.settle('download', down);
    expect(limiter.snapshot('download').pausedUntil).toBe(500);
    limiter.settle('download', down);
    expect(limiter.snapshot('download').pausedUntil).toBe(1000);
    limiter.settle('download', OK);
    limiter.settle('download', down);
    expect(limiter.snapshot('download').pausedUntil).toBe(1000); // the streak was broken
  });

  it('rejects waiters when aborted', async () => {
    const limiter = new RateLimiter();
    limiter.settle('submit', limited(10_000));
    const controller = new AbortController();
    const p = limiter.acquire('submit', controller.signal);
    controller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
