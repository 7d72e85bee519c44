import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../packages/batch/src/state/records.js';
import {
  checkAgainstLedger,
  cliEnv,
  readReport,
  runCli,
  simulator,
  spawnCli,
  tempDir,
  waitFor,
  writeCsvJob,
} from './_helpers.js';
import { backdateRun, detectionLags, recordsBySession } from './_pause.js';

/**
 * Issue 13: a run resumed after a long pause must not learn the pause as task time. Each test pauses for real
 * in effect — the run directory is backdated and the simulator's clock jumps ahead — and checks what the
 * resumed session did against the journal and the simulator's ledger.
 */

const HOUR = 3_600_000;
/** The simulator's tasks: exactly this long (no jitter), so every delay can be measured against it. */
const PENDING_MS = 100;
const RUNNING_MS = 1_400;
const TASK_MS = PENDING_MS + RUNNING_MS;

/** Records of one kind in the run's journal so far (a kill after that many is a kill with their outcomes known). */
function journaled(out: string, t: JournalRecord['t']): number {
  const journal = join(out, 'state', 'journal.jsonl');
  return existsSync(journal) ? readFileSync(journal, 'utf8').split(`"t":"${t}"`).length - 1 : 0;
}

describe('resume after a long pause (kill, wait hours, same command)', () => {
  it('new tasks are polled as promptly as in a fresh run, and the run finishes as fast as a fresh one', async () => {
    let offset = 0;
    const sim = await simulator({
      clock: () => Date.now() + offset,
      timings: { pendingMs: PENDING_MS, runningMs: RUNNING_MS, jitterRatio: 0 },
    });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 12);
    const cache = join(dir, 'cache');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: cache });
    const out = join(dir, 'out');
    const args = ['run', manifest, '--out', out, '--quiet', '--max-in-flight', '4'];

    // A fresh run of the same work, for comparison, against a provider of its own.
    const other = await simulator({
      timings: { pendingMs: PENDING_MS, runningMs: RUNNING_MS, jitterRatio: 0 },
    });
    const freshStarted = Date.now();
    const fresh = await runCli(
      ['run', manifest, '--out', join(dir, 'fresh'), '--quiet', '--max-in-flight', '4'],
      {
        env: cliEnv(other, { FLF2V_CACHE_DIR: join(dir, 'cache-fresh') }),
      },
    );
    const freshMs = Date.now() - freshStarted;
    expect(fresh.code, fresh.stderr).toBe(0);

    // Killed once 8 tasks are at the provider (4 of them finished), as in the report of issue 13.
    const first = spawnCli(args, { env });
    await waitFor(() => journaled(out, 'submitted') >= 8, 60_000);
    first.kill('SIGKILL');
    await first.result;

    // Two hours pass: the provider finishes what it had; the signed URLs it gave out expire (1 h).
    await backdateRun(out, 2 * HOUR, cache);
    offset += 2 * HOUR;

    // With the pause learned as task time, new tasks would first be polled an hour out: a watchdog says so.
    const resumedStarted = Date.now();
    const child = spawnCli(args, { env });
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const resumed = await child.result;
    clearTimeout(watchdog);
    const resumedMs = Date.now() - resumedStarted;
    expect(resumed.signal, `the resumed run was still going after 60 s (fresh: ${freshMs} ms)`).toBeNull();
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = await readReport(out);
    expect(report.totals).toMatchObject({ tasks: 12, succeeded: 12 });
    expect(report.tasks.map((t) => t.submissions)).toEqual(Array(12).fill(1));
    await checkAgainstLedger(sim, out);

    // The resumed session's own tasks: found finished within a fraction of their running time.
    const sessions = await recordsBySession(out);
    const lags = detectionLags(sessions.get(2)!, TASK_MS);
    expect(lags.length, 'tasks submitted and finished by the resumed session').toBeGreaterThanOrEqual(1);
    for (const { taskId, lagMs } of lags)
      expect(lagMs, `${taskId} noticed ${lagMs} ms late`).toBeLessThan(TASK_MS);
    // …and the resumed session (4 tasks left of 12) took no longer than the fresh run of all 12.
    expect(resumedMs, `resumed ${resumedMs} ms, fresh ${freshMs} ms`).toBeLessThan(freshMs + 2_000);
  });

  it('a task still running at the provider after the pause is not stalled by time no session ran', async () => {
    const sim = await simulator({ timings: { pendingMs: 0, runningMs: 4_000, jitterRatio: 0 } });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 2);
    const out = join(dir, 'out');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache') });
    const args = ['run', manifest, '--out', out, '--quiet', '--task-timeout', '30m'];
    const first = spawnCli(args, { env });
    await waitFor(() => journaled(out, 'submitted') >= 2, 60_000);
    first.kill('SIGKILL');
    await first.result;
    // The journal says the tasks were submitted an hour ago; the provider (its clock unmoved) still runs them.
    await backdateRun(out, HOUR, join(dir, 'cache'));

    const resumed = await runCli(args, { env });
    expect(resumed.code, `${resumed.stderr}\n${JSON.stringify(await readReport(out), null, 1)}`).toBe(0);
    const records = [...(await recordsBySession(out)).values()].flat();
    expect(records.filter((r) => r.t === 'stalled')).toEqual([]);
    expect((await readReport(out)).totals).toMatchObject({ succeeded: 2 });
  });

  it('a resumed rehearsal sends no submit that the embedded simulator refuses for an unknown frame URL', async () => {
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 8);
    await writeFile(join(dir, 'sim.yaml'), 'timings:\n  pendingMs: 0\n  runningMs: 1500\n  jitterRatio: 0\n');
    const out = join(dir, 'out');
    const args = ['run', manifest, '--simulator-config', join(dir, 'sim.yaml'), '--out', out, '--quiet'];
    // One task at a time, so the kill leaves most tasks to submit after every frame was uploaded.
    const first = spawnCli([...args, '--max-in-flight', '1'], { env: cliEnv(undefined) });
    // Killed once a task's submit is journaled whole (a kill between accept and journal would leave it unknown).
    await waitFor(() => journaled(out, 'submitted') >= 1, 60_000);
    first.kill('SIGKILL');
    await first.result;

    const resumed = await runCli(args, { env: cliEnv(undefined) });
    expect(resumed.code, resumed.stderr).toBe(0);
    const sessions = await recordsBySession(out);
    const second = sessions.get(2)!;
    // Frame URLs from the first process were reused (no second upload), and no submit was refused.
    expect(second.filter((r) => r.t === 'uploaded')).toEqual([]);
    expect(second.filter((r) => r.t === 'not_created')).toEqual([]);
    expect((await readReport(out)).totals).toMatchObject({ tasks: 8, succeeded: 8 });
  });
});
