import { describe, expect, it } from 'vitest';
import { PollPlanner } from '../../src/run/poll-planner.js';

/** A deterministic stand-in for task durations: D ± spread, spread evenly. */
function durations(n: number, d: number, spread = 0.1): number[] {
  return Array.from({ length: n }, (_, i) => d * (1 - spread + (2 * spread * ((i * 7919) % n)) / n));
}

/**
 * Simulate polling each task in turn with the planner; return queries per task and mean detection delay.
 * With `progress`, a running task reports linear progress as the simulator does (rounded down, 1–99).
 */
function simulate(planner: PollPlanner, tasks: number[], progress = false) {
  const bucket = '720p/5s/x1';
  let queries = 0;
  let delaySum = 0;
  for (const actual of tasks) {
    let t = planner.firstDelayMs(bucket, 5);
    let polls = 1;
    let previous = 0;
    planner.observeFirstPoll(bucket, 5, t, actual <= t);
    while (actual > t) {
      previous = t;
      const p = progress ? Math.min(99, Math.max(1, Math.floor((100 * t) / actual))) : undefined;
      if (p !== undefined) planner.sawProgress();
      t += planner.nextDelayMs({ bucket, seconds: 5, elapsedMs: t, polls, progress: p });
      polls++;
    }
    planner.observeCompletion(bucket, 5, previous, t);
    queries += polls + 1; // + the result query
    delaySum += (t - actual) / actual;
  }
  return { queriesPerTask: queries / tasks.length, meanDelay: delaySum / tasks.length };
}

describe('PollPlanner', () => {
  it('starts with the initial delay and backs off geometrically until something completes', () => {
    const planner = new PollPlanner({ initialDelayMs: 1000, initialGrowth: 2 });
    expect(planner.firstDelayMs('b', 5)).toBe(1000);
    expect(planner.nextDelayMs({ bucket: 'b', seconds: 5, elapsedMs: 1000, polls: 1 })).toBe(1000);
    expect(planner.nextDelayMs({ bucket: 'b', seconds: 5, elapsedMs: 2000, polls: 2 })).toBe(2000);
  });

  it('learns to poll around completion: at most 3 queries per task and under 10% detection delay', () => {
    const planner = new PollPlanner({ initialDelayMs: 2000 });
    const warmup = simulate(planner, durations(50, 60_000));
    const steady = simulate(planner, durations(500, 60_000));
    expect(warmup.queriesPerTask).toBeLessThan(10);
    expect(steady.queriesPerTask).toBeLessThanOrEqual(3);
    expect(steady.meanDelay).toBeLessThanOrEqual(0.1);
  });

  it('aims by reported progress: within 3 queries and 10% even when durations spread ±30%', () => {
    const planner = new PollPlanner();
    simulate(planner, durations(50, 60_000, 0.3), true);
    const steady = simulate(planner, durations(500, 60_000, 0.3), true);
    expect(steady.queriesPerTask).toBeLessThanOrEqual(3);
    expect(steady.meanDelay).toBeLessThanOrEqual(0.1);
  });

  it('follows the provider when it slows down', () => {
    const planner = new PollPlanner();
    simulate(planner, durations(200, 10_000));
    const slower = simulate(planner, durations(300, 30_000));
    expect(planner.estimateMs('720p/5s/x1', 5)).toBeGreaterThan(25_000);
    expect(slower.meanDelay).toBeLessThan(0.15);
  });

  it('borrows an estimate for a new bucket, scaled by video seconds', () => {
    const planner = new PollPlanner();
    planner.observeCompletion('720p/5s/x1', 5, 9000, 11_000);
    expect(planner.estimateMs('720p/8s/x1', 8)).toBe(16_000);
  });
});
