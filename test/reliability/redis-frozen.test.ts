import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../packages/batch/test/_redis.js';
import { readReport, simulator, spawnCli, tempDir, waitFor, writeCsvJob } from '../e2e/_helpers.js';
import { checkSubmissions, checkVideos, runEnv, statusCounts } from './_support.js';
import { enqueue, inspect, runState, waitSettled } from './_workers.js';

/**
 * A worker frozen past `--stalled-after` (SIGSTOP: a laptop lid, a debugger, a GC storm) while its tasks run at the
 * provider. Another worker takes them over. When the frozen one wakes, its intents and decisions are refused and it
 * leaves the tasks as soon as it learns it lost them (a refused write, a failed lock renewal); a poll or download it
 * had already started may still finish — the same bytes into the same place, which is no harm — and it must still
 * stop cleanly. Against the simulator's ledger: each task accepted once, every video byte-identical.
 */
describe('a worker that lost its tasks while frozen', () => {
  it('leaves them to the worker that took them over, and the run is exactly-once', async () => {
    const redis = await startRedis();
    const sim = await simulator({ timings: { pendingMs: 0, runningMs: 2_500, jitterRatio: 0.1 } });
    const dir = await tempDir('flf2v-rel-frozen-');
    const manifest = await writeCsvJob(dir, 6, { name: 'frozen' });
    const out = join(dir, 'out');
    const env = runEnv(sim, dir);
    const runId = (await enqueue(manifest, redis.url, out, env)).stdout.trim();
    const inspector = await inspect(redis.url);
    try {
      const args = ['worker', '--backend', redis.url, '--stalled-after', '2s', '--quiet'];
      const frozen = spawnCli(args, { env });
      // Frozen once every task is at the provider (submitted, not yet finished).
      await waitFor(() => sim.ledger().submissions.accepted.length >= 6, 60_000);
      frozen.kill('SIGSTOP');
      const rescuer = spawnCli(args, { env });
      await waitSettled(inspector, runId);
      frozen.kill('SIGCONT');
      // Awake: it finds its jobs taken and leaves them; a moment later it stops as asked.
      await new Promise((r) => setTimeout(r, 3_000));
      frozen.kill('SIGINT');
      rescuer.kill('SIGINT');
      const [a, b] = await Promise.all([frozen.result, rescuer.result]);
      expect(a.code, a.stderr).toBe(130);
      expect(b.code, b.stderr).toBe(130);

      const tasks = [...(await runState(inspector, runId)).tasks.values()];
      expect(tasks.map((t) => t.phase)).toEqual(Array(6).fill('succeeded'));
      const report = await readReport(out);
      expect(statusCounts(report)).toEqual({ succeeded: 6 });
      const ledger = sim.ledger();
      const { acceptedByTask } = checkSubmissions(ledger, report);
      for (const t of report.tasks) expect([t.id, acceptedByTask.get(t.id)]).toEqual([t.id, 1]);
      expect(await checkVideos(ledger, out, report)).toBe(6);
    } finally {
      inspector.disconnect();
    }
  });
});
