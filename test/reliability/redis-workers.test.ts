import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../packages/batch/test/_redis.js';
import { simulator, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { finishAndCheckExactlyOnce, killPlan } from './_kill-plan.js';
import { startKillProxy } from './_proxy.js';
import { prng, readReport, runEnv, size, statusCounts, testSeed } from './_support.js';
import {
  closingSession,
  cutBy,
  enqueue,
  inspect,
  KEYS,
  openTasks,
  type WorkerEnd,
  WorkerLanes,
  waitSettled,
} from './_workers.js';

/**
 * Issue 16: `flf2v worker` processes on one Redis, killed -9 at seeded moments and started again, while the
 * others take their tasks over (`--stalled-after 2s`). The moments are the kill test's (`_kill-plan.ts`): a time
 * after start, or an exact point of one of the killed worker's own requests through its lane of the kill proxy —
 * an upload or a submit arriving, just after a submit's answer, a status query, a result, halfway through a
 * video, just after one.
 *
 * Against the simulator's ledger, as for one runner killed and resumed: every task succeeded, or is `unknown`
 * exactly where a kill fell between its durable intent and its recorded taskId (read from Redis the moment the
 * worker is gone: the open intents of the tasks whose job it held); no other task accepted more than once;
 * `enqueue --resubmit-unknown` and a worker finish the unknown ones with each re-send counted; every video is
 * byte-identical to what the simulator served. And no in-flight slot is left held once every task is settled.
 */

const FILE = 'test/reliability/redis-workers.test.ts';
const KILLS = size(9, 90);
const QUICK_STOPS = size(10, 40);
const TASKS = size(24, 120);
const MORE = size(8, 30);
const LANES = ['w1', 'w2', 'w3'];
const MAX_IN_FLIGHT = 4;

const prompt = (i: number) => `redis worker kill, shot ${i + 1}, 镜头 ${i + 1}`;
const idOf = (i: number) => `shot-${String(i + 1).padStart(3, '0')}`;

describe('flf2v worker killed -9 at seeded moments, others taking over', () => {
  it(`loses nothing and pays once across ${KILLS} kills of ${LANES.length} workers`, async () => {
    const seed = testSeed('redis workers', FILE);
    const r = prng(seed);
    const server = await startRedis();
    const redis = await inspect(server.url);
    const sim = await simulator({ seed, timings: { pendingMs: 100, runningMs: 500, jitterRatio: 0.3 } });
    const proxy = await startKillProxy(sim.url);
    const dir = await tempDir('flf2v-rel-rworkers-');
    let tasks = TASKS;
    const manifest = await writeCsvJob(dir, tasks, { name: 'rkill', prompt });
    const out = join(dir, 'out');
    const env = runEnv(sim, dir, { BAICAI_BASE_URL: proxy.url });
    const runId = (
      await enqueue(manifest, server.url, out, env, ['--max-in-flight', String(MAX_IN_FLIGHT)])
    ).stdout.trim();
    const lanes = new WorkerLanes(proxy, {
      redisUrl: server.url,
      env,
      args: ['--stalled-after', '2s', '--concurrency', '16'],
      r,
    });
    const nextTrigger = killPlan(r);
    const hits: Record<string, number> = {};
    const cut = new Map<string, Set<number>>();
    let planned = 0;
    let kills = 0;
    let extended = 0;
    let stopping = false;
    const unexpected: WorkerEnd[] = [];

    // Each lane: a worker, killed at its trigger, started again (after a seeded pause) until the kills are spent.
    const lane = async (name: string): Promise<void> => {
      for (;;) {
        const trigger = planned < KILLS ? nextTrigger() : undefined;
        if (trigger) planned++;
        const end = await lanes.start(name, trigger).end;
        if (end.res.signal !== 'SIGKILL') {
          if (end.res.code !== 130) unexpected.push(end);
          return;
        }
        kills++;
        const what = end.reason!.replace(/#\d+/, '');
        hits[what] = (hits[what] ?? 0) + 1;
        for (const c of await cutBy(redis, runId, end.pid)) {
          cut.set(c.id, (cut.get(c.id) ?? new Set()).add(c.n));
        }
        await new Promise((res) => setTimeout(res, r.int(0, 1_000)));
        if (stopping) return;
      }
    };
    const running = LANES.map(lane);

    try {
      while (kills < KILLS) {
        expect(unexpected, `seed ${seed}`).toEqual([]);
        // The run finished before the kills were spent: the sheet grows, as a nightly job's does.
        if ((await openTasks(redis, runId)) === 0) {
          tasks += MORE;
          extended++;
          await writeCsvJob(dir, tasks, { name: 'rkill', prompt });
          await enqueue(manifest, server.url, out, env);
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      await waitSettled(redis, runId);
      stopping = true;
      await lanes.stopAll();
      await Promise.all(running);
      expect(unexpected, `seed ${seed}`).toEqual([]);
      // Every slot was given back: none is held for a task that no longer runs at the provider.
      expect(await redis.zrange(KEYS.inFlight, 0, -1), `seed ${seed}`).toEqual([]);

      await finishAndCheckExactlyOnce(
        {
          sim,
          proxy,
          out,
          args: ['enqueue', manifest, '--backend', server.url, '--out', out, '--quiet'],
          env,
          tasks,
          seed,
          cut,
          prompt,
          idOf,
          run: closingSession({ lanes, redis, runId, out, env }),
        },
        (before) =>
          console.log(
            `[redis workers] seed ${seed}: ${kills} kills over ${LANES.length} lanes (${extended} extensions, ${tasks} tasks);`,
            'kill points:',
            hits,
            `; cut mid-submit: ${cut.size};`,
            statusCounts(before),
          ),
      );
      expect(existsSync(join(out, 'report.html'))).toBe(true);
      const ledger = sim.ledger();
      expect(ledger.tasks.maxInFlight, `seed ${seed}`).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      expect((await readReport(out)).totals.succeeded).toBe(tasks);
    } finally {
      await lanes.stopAll().catch(() => {});
      await proxy.close();
      redis.disconnect();
    }
  });

  // Found by the kill test's closing sessions: a worker stopped right after it started either died of the
  // signal (Ctrl-C was handled only after "taking tasks" was printed) or crashed on BullMQ's connections being
  // cut while they started ("Connection is closed.", exit 1).
  it(`a worker stopped as soon as it says it takes tasks exits 130, ${QUICK_STOPS} times`, async () => {
    const server = await startRedis();
    const sim = await simulator();
    const dir = await tempDir('flf2v-rel-rworkers-');
    const proxy = await startKillProxy(sim.url);
    const lanes = new WorkerLanes(proxy, {
      redisUrl: server.url,
      env: runEnv(sim, dir),
      args: [],
      r: prng(1),
    });
    try {
      for (let i = 0; i < QUICK_STOPS; i++) {
        const worker = lanes.start('w1');
        await lanes.stopAll();
        expect((await worker.end).res.code).toBe(130);
      }
    } finally {
      await proxy.close();
    }
  });
});
