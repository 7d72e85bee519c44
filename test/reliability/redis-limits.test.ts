import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../packages/batch/test/_redis.js';
import { runCli, simulator, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { requestsBeforeRetryAfter } from './_faults.js';
import { startKillProxy } from './_proxy.js';
import {
  checkSubmissions,
  checkVideos,
  prng,
  providerRequests,
  readReport,
  runEnv,
  size,
  statusCounts,
  testSeed,
} from './_support.js';
import { enqueue, inspect, KEYS, WorkerLanes, waitSettled } from './_workers.js';

/**
 * Issue 16: one API key's limits are global — every worker together keeps them, and what one learns from a 429
 * every worker obeys. Three `flf2v worker` processes against the simulator's limits; the ledger is the oracle:
 * its peak of tasks running and in flight, its request log (sliding windows, requests inside an announced
 * Retry-After), its 429s.
 */

const FILE = 'test/reliability/redis-limits.test.ts';
const LANES = ['w1', 'w2', 'w3'];

/** Most of `times` (ms) inside any window of `windowMs`. */
function slidingMax(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** A run of `tasks` on a fresh Redis with three workers: what a test needs to drive and check it. */
async function setup(name: string, tasks: number, sim: Awaited<ReturnType<typeof simulator>>, seed: number) {
  const server = await startRedis();
  const redis = await inspect(server.url);
  const proxy = await startKillProxy(sim.url);
  const dir = await tempDir(`flf2v-rel-rlimits-${name}-`);
  const manifest = await writeCsvJob(dir, tasks, {
    name,
    prompt: (i) => `${name}, shot ${i + 1}, 镜头 ${i + 1}`,
  });
  const out = join(dir, 'out');
  const env = runEnv(sim, dir);
  const lanes = new WorkerLanes(proxy, {
    redisUrl: server.url,
    env,
    args: ['--concurrency', '16'],
    r: prng(seed),
  });
  /** Report from Redis, then the ledger oracles: all succeeded, each accepted once, videos as served. */
  const finish = async (runId: string) => {
    await waitSettled(redis, runId, 120_000);
    await lanes.stopAll();
    expect((await runCli(['report', out], { env })).code).toBe(0);
    const report = await readReport(out);
    expect(statusCounts(report), `seed ${seed}`).toEqual({ succeeded: tasks });
    expect(
      report.tasks.map((t) => t.submissions),
      `seed ${seed}`,
    ).toEqual(Array(tasks).fill(1));
    const ledger = sim.ledger();
    checkSubmissions(ledger, report);
    expect(await checkVideos(ledger, out, report)).toBe(tasks);
    return ledger;
  };
  const close = async () => {
    await lanes.stopAll().catch(() => {});
    await proxy.close();
    redis.disconnect();
  };
  return { server, redis, manifest, out, env, lanes, finish, close };
}

describe('limits kept by every worker together', () => {
  it('a 429 storm: no task fails, every worker waits out each announced Retry-After', async () => {
    const seed = testSeed('redis 429 storm', FILE);
    const tasks = size(24, 120);
    const sim = await simulator({ seed, timings: { pendingMs: 100, runningMs: 600, jitterRatio: 0.3 } });
    const t = await setup('storm', tasks, sim, seed);
    try {
      const runId = (await enqueue(t.manifest, t.server.url, t.out, t.env)).stdout.trim();
      // The storm: most requests of every kind answered 429 (Retry-After 1 s) for a while, then calm.
      sim.update({ faults: [{ kind: 'rate-limit', probability: 0.6, retryAfterMs: 1_000 }] });
      for (const lane of LANES) t.lanes.start(lane);
      await new Promise((r) => setTimeout(r, size(6_000, 30_000)));
      sim.update({ faults: [] });
      const ledger = await t.finish(runId);
      const requests = providerRequests(ledger);
      const limited = requests.filter((r) => r.status === 429).length;
      const early = requestsBeforeRetryAfter(ledger);
      console.log(
        `[redis 429 storm] seed ${seed}: ${tasks} tasks, ${requests.length} requests, ${limited} answered 429 ` +
          `(${((limited / requests.length) * 100).toFixed(1)}%); inside an announced Retry-After: ${early.length}`,
      );
      expect(limited, 'the storm hit').toBeGreaterThan(0);
      // A 429 pauses its call class for every worker: nothing of that class leaves before the announced time.
      expect(early, `seed ${seed}`).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('the in-flight cap: never more tasks at the provider than --max-in-flight, workers restarted midway', async () => {
    const seed = testSeed('redis in-flight cap', FILE);
    const cap = 3;
    const tasks = size(24, 90);
    // The provider refuses a submit over the cap (429): a worker that overshoots shows in its ledger.
    const sim = await simulator({
      seed,
      timings: { pendingMs: 100, runningMs: 800, jitterRatio: 0.3 },
      limits: { maxRunningPerKey: cap, overCapacity: 'reject' },
    });
    const t = await setup('cap', tasks, sim, seed);
    try {
      const runId = (
        await enqueue(t.manifest, t.server.url, t.out, t.env, ['--max-in-flight', String(cap)])
      ).stdout.trim();
      const running = LANES.map((lane) => t.lanes.start(lane));
      // A rolling restart: each worker stopped (its tasks handed back) and started again, one after another.
      for (const [i, lane] of LANES.entries()) {
        await new Promise((r) => setTimeout(r, 1_500));
        process.kill(running[i]!.pid, 'SIGINT');
        expect((await running[i]!.end).res.code).toBe(130);
        t.lanes.start(lane);
      }
      const ledger = await t.finish(runId);
      console.log(
        `[redis in-flight cap] seed ${seed}: cap ${cap}, ${tasks} tasks; at the provider at most ` +
          `${ledger.tasks.maxInFlight} in flight, ${ledger.tasks.maxConcurrentRunning} running; ` +
          `submits refused over capacity: ${ledger.submissions.rejected.capacity ?? 0}`,
      );
      expect(ledger.tasks.maxInFlight, `seed ${seed}`).toBeLessThanOrEqual(cap);
      expect(ledger.tasks.maxConcurrentRunning, `seed ${seed}`).toBeLessThanOrEqual(cap);
      expect(ledger.submissions.rejected.capacity ?? 0, `seed ${seed}`).toBe(0);
      expect(await t.redis.zcard(KEYS.inFlight)).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('a known --submit-rpm: no sliding window of submits over the limit, all workers together', async () => {
    const seed = testSeed('redis submit rate', FILE);
    const tasks = size(20, 80);
    // 120 a minute, which the simulator enforces as 5 in any 2.5 s: evenly paced, never more.
    const window = { max: 5, windowMs: 2_500 };
    const sim = await simulator({
      seed,
      timings: { pendingMs: 50, runningMs: 300 },
      limits: { submit: window },
    });
    const t = await setup('rate', tasks, sim, seed);
    try {
      const runId = (
        await enqueue(t.manifest, t.server.url, t.out, t.env, ['--submit-rpm', '120'])
      ).stdout.trim();
      for (const lane of LANES) t.lanes.start(lane);
      const ledger = await t.finish(runId);
      const submits = providerRequests(ledger).filter((r) => r.endpoint === 'submit');
      const most = slidingMax(
        submits.map((r) => r.at),
        window.windowMs,
      );
      console.log(
        `[redis submit rate] seed ${seed}: ${submits.length} submits by ${LANES.length} workers; most in any ` +
          `${window.windowMs} ms: ${most} (limit ${window.max}); 429s: ${ledger.rateLimited.submit}`,
      );
      expect(most, `seed ${seed}`).toBeLessThanOrEqual(window.max);
      expect(ledger.rateLimited.submit, `seed ${seed}`).toBe(0);
    } finally {
      await t.close();
    }
  });
});
