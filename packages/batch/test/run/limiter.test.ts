import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/run/limiter.js';

/** Resolve-order probe: which acquires have been granted by now. */
function track(limiter: RateLimiter, n: number, cls: 'submit' | 'query' = 'submit') {
  const granted: number[] = [];
  for (let i = 0; i < n; i++) void limiter.acquire(cls).then(() => granted.push(i));
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
    const granted = track(limiter, 100);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(100);
  });

  it('paces a known limit evenly, just under it', async () => {
    const limiter = new RateLimiter({ rpm: { submit: 60 }, margin: 0 });
    const granted = track(limiter, 5);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(granted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(granted).toHaveLength(5);
  });

  it('sends nothing of a class before its Retry-After, and other classes are unaffected', async () => {
    const limiter = new RateLimiter();
    limiter.settle('submit', { status: 429, rateLimited: true, retryAfterMs: 5000 });
    const submits = track(limiter, 3, 'submit');
    const queries = track(limiter, 3, 'query');
    await vi.advanceTimersByTimeAsync(4999);
    expect(submits).toHaveLength(0);
    expect(queries).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(submits.length).toBeGreaterThan(0);
  });

  it('cuts the rate to what was accepted over the epoch, pause included', async () => {
    const limiter = new RateLimiter();
    // 100 accepted within the first second of a 60 s window, then 429 until the window resets.
    track(limiter, 100);
    await vi.advanceTimersByTimeAsync(1000);
    for (let i = 0; i < 100; i++) limiter.settle('submit', { status: 200, rateLimited: false });
    limiter.settle('submit', { status: 429, rateLimited: true, retryAfterMs: 59_000 });
    const rate = limiter.snapshot('submit').ratePerSecond;
    expect(rate).toBeCloseTo(100 / 60, 1);
    // A second 429 from the same burst does not cut again.
    limiter.settle('submit', { status: 429, rateLimited: true, retryAfterMs: 59_000 });
    expect(limiter.snapshot('submit').ratePerSecond).toBeCloseTo(rate, 5);
  });

  it('does not cut the rate on 429s that follow only a few successes (they come whatever the rate)', async () => {
    const limiter = new RateLimiter();
    track(limiter, 3);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 3; i++) limiter.settle('submit', { status: 200, rateLimited: false });
    limiter.settle('submit', { status: 429, rateLimited: true, retryAfterMs: 1000 });
    expect(limiter.snapshot('submit').ratePerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(limiter.snapshot('submit').pausedUntil).toBe(1000);
  });

  it('at most halves the rate per congestion event', async () => {
    const limiter = new RateLimiter({ rpm: { submit: 600 }, margin: 0 });
    const granted = track(limiter, 20);
    await vi.advanceTimersByTimeAsync(2000);
    expect(granted).toHaveLength(20);
    for (let i = 0; i < 20; i++) limiter.settle('submit', { status: 200, rateLimited: false });
    limiter.settle('submit', { status: 429, rateLimited: true, retryAfterMs: 60_000 });
    expect(limiter.snapshot('submit').ratePerSecond).toBeCloseTo(5, 5);
  });

  it('backs off exponentially on 429s without Retry-After', async () => {
    const limiter = new RateLimiter({ fallbackPauseMs: 1000 });
    limiter.settle('query', { status: 429, rateLimited: true });
    expect(limiter.snapshot('query').pausedUntil).toBe(1000);
    limiter.settle('query', { status: 429, rateLimited: true });
    expect(limiter.snapshot('query').pausedUntil).toBe(2000);
  });

  it('recovers additively after a cut', async () => {
    const limiter = new RateLimiter({ recoveryPerSecond: 0.1 });
    track(limiter, 10);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 10; i++) limiter.settle('submit', { status: 200, rateLimited: false });
    limiter.settle('submit', { status: 429, rateLimited: true, retryAfterMs: 9000 });
    const cut = limiter.snapshot('submit').ratePerSecond;
    await vi.advanceTimersByTimeAsync(9000 + 10_000);
    expect(limiter.snapshot('submit').ratePerSecond).toBeCloseTo(cut * 2, 5);
  });

  it('rejects waiters when aborted', async () => {
    const limiter = new RateLimiter();
    limiter.settle('submit', { status: 429, rateLimited: true, retryAfterMs: 10_000 });
    const controller = new AbortController();
    const p = limiter.acquire('submit', controller.signal);
    controller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
