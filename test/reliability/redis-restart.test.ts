import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../packages/batch/test/_redis.js';
import { runCli, simulator, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { finishAndCheckExactlyOnce } from './_kill-plan.js';
import { startKillProxy } from './_proxy.js';
import { startRedisCutProxy } from './_redis-proxy.js';
import {
  checkSubmissions,
  checkVideos,
  prng,
  readReport,
  runEnv,
  size,
  statusCounts,
  testSeed,
} from './_support.js';
import {
  closingSession,
  enqueue,
  inspect,
  KEYS,
  openTasks,
  runState,
  type WorkerEnd,
  WorkerLanes,
  waitSettled,
} from './_workers.js';

/**
 * Issue 16: Redis killed -9 (then started again on its append-only file) at seeded moments while three workers
 * run. A worker rides through (its commands wait for the reconnect, up to `RIDE_THROUGH_MS`) or stops with
 * E_BACKEND (exit 3) and is started again; the run finishes.
 *
 * No intent is lost: Redis answers a write only once it is on disk (`appendfsync always`), so a task whose intent
 * Redis acknowledged is never sent again without being counted. The test cannot know in advance which submits a
 * Redis kill cuts (an intent written, its taskId not yet): those end `unknown`, and against the simulator's
 * ledger each is disclosed in `submissions`, every other task was accepted exactly once, `enqueue
 * --resubmit-unknown` and a worker finish them, and every video is byte-identical to what was served.
 */

const FILE = 'test/reliability/redis-restart.test.ts';
const RESTARTS = size(4, 30);
const TASKS = size(30, 150);
const MORE = size(10, 30);
const LANES = ['w1', 'w2', 'w3'];

const prompt = (i: number) => `redis restart, shot ${i + 1}, 镜头 ${i + 1}`;
const idOf = (i: number) => `shot-${String(i + 1).padStart(3, '0')}`;

describe('Redis killed -9 and started again while workers run', () => {
  it(`loses no intent and finishes exactly-once across ${RESTARTS} Redis kills`, async () => {
    const seed = testSeed('redis restart', FILE);
    const r = prng(seed);
    const server = await startRedis();
    const redis = await inspect(server.url);
    const sim = await simulator({ seed, timings: { pendingMs: 100, runningMs: 800, jitterRatio: 0.3 } });
    const proxy = await startKillProxy(sim.url);
    const dir = await tempDir('flf2v-rel-rrestart-');
    let tasks = TASKS;
    const manifest = await writeCsvJob(dir, tasks, { name: 'rrestart', prompt });
    const out = join(dir, 'out');
    const env = runEnv(sim, dir, { BAICAI_BASE_URL: proxy.url });
    const runId = (await enqueue(manifest, server.url, out, env, ['--max-in-flight', '6'])).stdout.trim();
    const lanes = new WorkerLanes(proxy, {
      redisUrl: server.url,
      env,
      // Longer than an outage and the reconnect after it: the workers keep their tasks (a worker that lost one
      // while it still drove it is another story: see the report of issue 16's reliability work).
      args: ['--stalled-after', '10s', '--concurrency', '16'],
      r,
    });
    let stopping = false;
    const exits: Record<string, number> = {};
    const unexpected: WorkerEnd[] = [];
    // Each lane: a worker, started again whenever it stops (Redis gone: exit 3, E_BACKEND) until the end.
    const lane = async (name: string): Promise<void> => {
      for (;;) {
        const end = await lanes.start(name).end;
        const code = String(end.res.code ?? end.res.signal);
        exits[code] = (exits[code] ?? 0) + 1;
        if (code !== '130') console.log(`[redis restart] a worker exited ${code}: ${end.res.stderr}`);
        if (stopping && end.res.code === 130) return;
        if (end.res.code !== 3 || !end.res.stderr.includes('E_BACKEND')) unexpected.push(end);
        await new Promise((res) => setTimeout(res, 200));
      }
    };
    const running = LANES.map(lane);
    let extended = 0;
    const downs: number[] = [];

    try {
      for (let k = 0; k < RESTARTS; k++) {
        await new Promise((res) => setTimeout(res, r.int(500, 3_000)));
        expect(
          unexpected.map((u) => u.res.stderr),
          `seed ${seed}`,
        ).toEqual([]);
        if ((await openTasks(redis, runId)) === 0) {
          tasks += MORE;
          extended++;
          await writeCsvJob(dir, tasks, { name: 'rrestart', prompt });
          await enqueue(manifest, server.url, out, env);
        }
        await server.kill();
        const down = r.int(100, 2_500);
        downs.push(down);
        await new Promise((res) => setTimeout(res, down));
        await server.restart();
      }
      await waitSettled(redis, runId);
      stopping = true;
      await lanes.stopAll();
      await Promise.all(running);
      expect(
        unexpected.map((u) => u.res.stderr),
        `seed ${seed}`,
      ).toEqual([]);

      // Which submits the kills cut is known only now: each unknown task, with every submission it made.
      const cut = new Map<string, Set<number>>();
      for (const t of (await runState(redis, runId)).tasks.values()) {
        if (t.phase === 'unknown') cut.set(t.id, new Set([...t.sent, ...t.pending]));
      }
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
            `[redis restart] seed ${seed}: ${RESTARTS} Redis kills (down ${downs.join(', ')} ms; ${extended} extensions, ${tasks} tasks);`,
            'worker exits:',
            exits,
            `; cut mid-submit: ${cut.size};`,
            statusCounts(before),
          ),
      );
    } finally {
      stopping = true;
      await lanes.stopAll().catch(() => {});
      await proxy.close();
      redis.disconnect();
    }
  });

  // ioredis sends a command again when its connection drops before the answer (the write may have happened).
  // An intent sent again must be taken as the same intent — not as another worker's open one, which left the
  // task with an open intent that no worker drove: the run never finished.
  it('an intent Redis applied but whose answer was cut is taken again as the same intent', async () => {
    const server = await startRedis();
    const redis = await inspect(server.url);
    const cutProxy = await startRedisCutProxy(server.port);
    const sim = await simulator();
    const proxy = await startKillProxy(sim.url);
    const dir = await tempDir('flf2v-rel-rrestart-');
    const manifest = await writeCsvJob(dir, 4, { name: 'rcut' });
    const out = join(dir, 'out');
    const env = runEnv(sim, dir);
    const runId = (await enqueue(manifest, cutProxy.url, out, env)).stdout.trim();
    const cut = cutProxy.cutAfter(/"t":"intent"/, async (command) => {
      const key = /(flf2v:[0-9a-f]+:run:[0-9a-f]+:t:[0-9a-f]+)\r\n/.exec(command)![1]!;
      const n = /"n":(\d+)/.exec(command)![1]!;
      const [pending, lastN] = await redis.hmget(key, 'pending', 'lastN');
      return pending === '1' && lastN === n;
    });
    const lanes = new WorkerLanes(proxy, { redisUrl: cutProxy.url, env, args: [], r: prng(1) });
    try {
      lanes.start('w1');
      await cut;
      await waitSettled(redis, runId, 30_000);
      await lanes.stopAll();
      expect((await runCli(['report', out], { env })).code).toBe(0);
      const report = await readReport(out);
      expect(statusCounts(report)).toEqual({ succeeded: 4 });
      expect(report.tasks.map((t) => t.submissions)).toEqual([1, 1, 1, 1]);
      const ledger = sim.ledger();
      expect(ledger.submissions.accepted).toHaveLength(4);
      checkSubmissions(ledger, report);
      expect(await checkVideos(ledger, out, report)).toBe(4);
    } finally {
      await lanes.stopAll().catch(() => {});
      await proxy.close();
      await cutProxy.close();
      redis.disconnect();
    }
  });

  // BullMQ's Worker.close never returns while Redis is unreachable (taskforcesh/bullmq#4656): a worker stopped
  // during an outage hung for good, with its jobs still its own. It now gives up after the grace, and its tasks
  // are taken over once Redis is back.
  it('a worker stopped while Redis is down exits 130 after the grace; another finishes its tasks', async () => {
    const server = await startRedis();
    const redis = await inspect(server.url);
    const sim = await simulator({ timings: { pendingMs: 100, runningMs: 1_000 } });
    const proxy = await startKillProxy(sim.url);
    const dir = await tempDir('flf2v-rel-rrestart-');
    const manifest = await writeCsvJob(dir, 6, { name: 'rstop' });
    const out = join(dir, 'out');
    const env = runEnv(sim, dir);
    const runId = (await enqueue(manifest, server.url, out, env)).stdout.trim();
    const lanes = new WorkerLanes(proxy, {
      redisUrl: server.url,
      env,
      args: ['--stalled-after', '2s'],
      r: prng(1),
    });
    try {
      const first = lanes.start('w1');
      // Every task at the provider, its taskId in Redis: the outage hits polls, results and downloads.
      for (;;) {
        const phases = await redis.hmget(
          KEYS.run(runId),
          'phase:submitted',
          'phase:completed',
          'phase:succeeded',
        );
        if (phases.reduce((n, v) => n + Number(v ?? 0), 0) === 6) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await server.kill();
      const killedAt = Date.now();
      const stopped = lanes.stopAll();
      const end = await first.end;
      expect(end.res.code, end.res.stderr).toBe(130);
      console.log(
        `[redis restart] a worker stopped during an outage exited after ${Date.now() - killedAt} ms`,
      );
      await stopped;
      await server.restart();
      lanes.start('w2');
      await waitSettled(redis, runId, 60_000);
      await lanes.stopAll();
      expect((await runCli(['report', out], { env })).code).toBe(0);
      const report = await readReport(out);
      expect(statusCounts(report)).toEqual({ succeeded: 6 });
      checkSubmissions(sim.ledger(), report);
      expect(await checkVideos(sim.ledger(), out, report)).toBe(6);
    } finally {
      await lanes.stopAll().catch(() => {});
      await proxy.close();
      redis.disconnect();
    }
  });
});
