import { describe, expect, it } from 'vitest';
import { startRedis } from '../../packages/batch/test/_redis.js';
import { simulator, tempDir } from '../e2e/_helpers.js';
import { startKillProxy } from './_proxy.js';
import { prng, runEnv, size } from './_support.js';
import { WorkerLanes } from './_workers.js';

/** Issue 16: `flf2v worker` processes on one Redis, stopped and killed. */

const QUICK_STOPS = size(10, 40);

describe('flf2v worker on Redis, stopped and killed', () => {
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
