import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../packages/batch/test/_redis.js';
import { runCli, simulator, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { startKillProxy } from './_proxy.js';
import { startRedisCutProxy } from './_redis-proxy.js';
import { checkSubmissions, checkVideos, prng, readReport, runEnv, statusCounts } from './_support.js';
import { enqueue, inspect, WorkerLanes, waitSettled } from './_workers.js';

/** Issue 16: the Redis backend when Redis goes away: connections cut, Redis killed -9 and started again. */

describe('Redis killed -9 and started again while workers run', () => {
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
});
