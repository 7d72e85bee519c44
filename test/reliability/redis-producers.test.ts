import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../packages/batch/test/_redis.js';
import { runCli, simulator, spawnCli, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { startKillProxy } from './_proxy.js';
import { prng, readReport, runEnv, size, statusCounts, testSeed } from './_support.js';
import { enqueue, inspect, KEYS, WorkerLanes, waitSettled } from './_workers.js';

/**
 * Issue 16: several people enqueueing sheets into one Redis. Two `flf2v enqueue` of the same manifest into the
 * same --out, started at the same moment, many times, while a worker runs: both print the one run id, the run
 * holds each task once (its counters and its journal), and the simulator accepts each task once.
 */

const FILE = 'test/reliability/redis-producers.test.ts';
const ROUNDS = size(8, 40);
const TASKS = 4;

describe('two producers enqueueing the same manifest at once', () => {
  it(`one run, no task twice, ${ROUNDS} rounds`, async () => {
    const seed = testSeed('redis producers', FILE);
    const server = await startRedis();
    const redis = await inspect(server.url);
    const sim = await simulator({ seed });
    const proxy = await startKillProxy(sim.url);
    const dir = await tempDir('flf2v-rel-rproducers-');
    const env = runEnv(sim, dir);
    const lanes = new WorkerLanes(proxy, { redisUrl: server.url, env, args: [], r: prng(seed) });
    lanes.start('w1');
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const job = join(dir, `round-${round}`);
        const manifest = await writeCsvJob(job, TASKS, {
          name: 'producers',
          prompt: (i) => `two producers, round ${round}, shot ${i + 1}`,
        });
        const out = join(job, 'out');
        const args = ['enqueue', manifest, '--backend', server.url, '--out', out, '--quiet'];
        const [a, b] = await Promise.all([spawnCli(args, { env }).result, spawnCli(args, { env }).result]);
        const where = `seed ${seed}, round ${round}:\nA: ${a.stderr}\nB: ${b.stderr}`;
        expect([a.code, b.code], where).toEqual([0, 0]);
        const runId = a.stdout.trim();
        expect(b.stdout.trim(), where).toBe(runId);
        expect(JSON.parse(await readFile(join(out, 'backend.json'), 'utf8')).runId, where).toBe(runId);
        // Once in the counters, once in the journal, one header.
        expect(await redis.hget(KEYS.run(runId), 'tasks'), where).toBe(String(TASKS));
        const log = (await redis.lrange(KEYS.runLog(runId), 0, -1)).map(
          (l) => JSON.parse(l) as { t: string },
        );
        expect(
          log.filter((r) => r.t === 'planned'),
          where,
        ).toHaveLength(TASKS);
        expect(
          log.filter((r) => r.t === 'header'),
          where,
        ).toHaveLength(1);
        expect(await redis.smembers(KEYS.runs), where).toContain(runId);
        await waitSettled(redis, runId, 60_000);
        expect((await runCli(['report', out], { env })).code, where).toBe(0);
        const report = await readReport(out);
        expect(statusCounts(report), where).toEqual({ succeeded: TASKS });
        expect(
          report.tasks.map((t) => t.submissions),
          where,
        ).toEqual(Array(TASKS).fill(1));
      }
      // No more runs than rounds; each task accepted once.
      expect(await redis.scard(KEYS.runs)).toBe(ROUNDS);
      const accepted = sim.ledger().submissions.accepted;
      expect(accepted).toHaveLength(ROUNDS * TASKS);
      expect(new Set(accepted.map((s) => s.bodyHash)).size).toBe(ROUNDS * TASKS);
    } finally {
      await lanes.stopAll().catch(() => {});
      await proxy.close();
      redis.disconnect();
    }
  });

  // A frame copy cut short (a producer killed mid-copy, or one still copying while another producer found the
  // name taken) was taken for the frame: workers uploaded a truncated image. Copies are now placed whole.
  it('a frame copy cut short in the run directory is replaced, and workers upload whole frames', async () => {
    const server = await startRedis();
    const redis = await inspect(server.url);
    const sim = await simulator();
    const proxy = await startKillProxy(sim.url);
    const dir = await tempDir('flf2v-rel-rproducers-');
    const manifest = await writeCsvJob(dir, 4, { name: 'cutcopy' });
    const out = join(dir, 'out');
    const env = runEnv(sim, dir);
    // What the first enqueue copies, cut to half by a "kill".
    const runId = (await enqueue(manifest, server.url, out, env)).stdout.trim();
    const frames = join(out, 'frames');
    const names = (await readdir(frames)).filter((n) => !n.endsWith('.tmp'));
    expect(names).toHaveLength(4);
    for (const name of names) {
      const whole = await readFile(join(frames, name));
      await writeFile(join(frames, name), whole.subarray(0, whole.length >> 1));
    }
    await enqueue(manifest, server.url, out, env);
    const lanes = new WorkerLanes(proxy, { redisUrl: server.url, env, args: [], r: prng(1) });
    try {
      lanes.start('w1');
      await waitSettled(redis, runId, 60_000);
      const shas = names.map((n) => n.split('.')[0]!).sort();
      expect(Object.keys(sim.ledger().uploads).sort()).toEqual(shas);
      expect(await readdir(frames)).toHaveLength(4);
    } finally {
      await lanes.stopAll().catch(() => {});
      await proxy.close();
      redis.disconnect();
    }
  });
});
