import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulator, spawnCli, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { readReport, runEnv, size, statusCounts, testSeed } from './_support.js';

/**
 * Two `flf2v run` on the same `--out`, started at the same moment, many times: exactly one proceeds; the other
 * exits 2 with a message naming the holder (its pid), having sent nothing; the ledger shows each task
 * submitted once. Both start from an empty directory, so they also race to create it and its state.
 */

const FILE = 'test/reliability/two-runners.test.ts';
const ROUNDS = size(10, 60);
const TASKS = 3;

describe('two runners on one directory', () => {
  it(`exactly one proceeds, ${ROUNDS} rounds out of ${ROUNDS}`, async () => {
    const seed = testSeed('two runners', FILE);
    // Tasks last long enough that the winner is still running when the loser asks for the lock.
    const sim = await simulator({ seed, timings: { pendingMs: 100, runningMs: 800 } });
    const dir = await tempDir('flf2v-rel-two-');
    const outcomes: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const job = join(dir, `round-${round}`);
      const manifest = await writeCsvJob(job, TASKS, {
        name: 'two',
        prompt: (i) => `two runners, round ${round}, shot ${i + 1}`,
      });
      const out = join(job, 'out');
      const env = runEnv(sim, dir);
      const args = ['run', manifest, '--out', out, '--quiet'];
      const a = spawnCli(args, { env });
      const b = spawnCli(args, { env });
      const [ra, rb] = await Promise.all([a.result, b.result]);
      const where = `seed ${seed}, round ${round}: exits ${ra.code} and ${rb.code}\nA (pid ${a.pid}): ${ra.stderr}\nB (pid ${b.pid}): ${rb.stderr}`;
      expect([ra.code, rb.code].sort(), where).toEqual([0, 2]);
      const [loser, winner] = ra.code === 2 ? [ra, b] : [rb, a];
      // The refusal names the holder, so a person knows what to wait for.
      expect(loser.stderr, where).toMatch(new RegExp(`in use by pid ${winner.pid}\\b`));
      expect(loser.stderr, where).toContain('E_LOCKED');
      outcomes.push(ra.code === 0 ? 'A' : 'B');

      const report = await readReport(out);
      expect(statusCounts(report), where).toEqual({ succeeded: TASKS });
      expect(
        report.tasks.map((t) => t.submissions),
        where,
      ).toEqual([1, 1, 1]);
    }
    const ledger = sim.ledger();
    // Each task of each round submitted exactly once.
    expect(ledger.submissions.accepted).toHaveLength(ROUNDS * TASKS);
    expect(new Set(ledger.submissions.accepted.map((s) => s.bodyHash)).size).toBe(ROUNDS * TASKS);
    // …and the taskIds the reports hold are exactly those the simulator issued.
    const held: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of (await readReport(join(dir, `round-${round}`, 'out'))).tasks) held.push(t.taskId!);
    }
    expect(held.sort()).toEqual(ledger.submissions.accepted.map((s) => s.taskId).sort());
    console.log(`[two runners] seed ${seed}: winners by round ${outcomes.join('')}`);
  });
});
