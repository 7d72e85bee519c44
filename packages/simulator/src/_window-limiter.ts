import type { WindowLimit } from './types.js';

/**
 * At most `max` admissions per key in any sliding window of `windowMs`: a ring of the last `max` admission
 * times per key, so a check is O(1). A refused request is not counted.
 */
export class WindowLimiter {
  private readonly rings = new Map<string, { times: Float64Array; head: number; filled: number }>();
  constructor(readonly limit: WindowLimit) {}

  /** Admit and return 0, or return how many ms until the request would be admitted. */
  take(key: string, now: number): number {
    const { max, windowMs } = this.limit;
    let ring = this.rings.get(key);
    if (!ring) {
      ring = { times: new Float64Array(max), head: 0, filled: 0 };
      this.rings.set(key, ring);
    }
    if (ring.filled === max) {
      const oldest = ring.times[ring.head]!;
      const waitMs = oldest + windowMs - now;
      if (waitMs > 0) return waitMs;
    } else {
      ring.filled++;
    }
    ring.times[ring.head] = now;
    ring.head = (ring.head + 1) % max;
    return 0;
  }
}
