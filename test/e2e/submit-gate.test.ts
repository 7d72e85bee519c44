import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkAgainstLedger,
  cliEnv,
  readReport,
  runCli,
  simulator,
  slowFirstSubmit,
  spawnCli,
  tempDir,
  waitFor,
  writeCsvJob,
} from './_helpers.js';

/**
 * A submit's intent is journaled when the rate gate lets its POST go, not before the wait for its turn: a run
 * killed or stopped while submits wait at the gate has sent nothing for them, so nothing of it is `unknown`.
 * And `status`, read from another process while the run is going, shows a POST on the wire as pending.
 */

const SLOW_RATE = ['--submit-rpm', '20'] as const; // one submit every 3 s: several tasks wait their turn

describe('submits waiting at the rate gate', () => {
  it('a kill -9 while submits wait their turn leaves them planned: the same command sends them, none unknown', async () => {
    const sim = await simulator({ timings: { pendingMs: 50, runningMs: 200 } });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 8);
    const out = join(dir, 'out');
    const env = cliEnv(sim);
    const run = spawnCli(['run', manifest, '--out', out, '--quiet', ...SLOW_RATE], { env });
    await waitFor(() => sim.ledger().submissions.accepted.length >= 2);
    // Between two turns of the gate: no POST is on the wire, several tasks are waiting for theirs.
    await new Promise((r) => setTimeout(r, 500));
    run.kill('SIGKILL');
    await run.result;

    const status = await runCli(['status', out, '--json'], { env });
    expect(JSON.parse(status.stdout).totals.unknown).toBe(0);
    const resumed = await runCli(['run', manifest, '--out', out, '--quiet', '--submit-rpm', '600'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = await readReport(out);
    expect(report.totals).toMatchObject({ tasks: 8, succeeded: 8, unknown: 0 });
    expect(report.tasks.map((t) => t.submissions)).toEqual(Array(8).fill(1));
    expect(sim.ledger().submissions.accepted).toHaveLength(8);
    await checkAgainstLedger(sim, out);
  });

  it('Ctrl-C while submits wait their turn sends none of them: the stop cuts the wait, not a POST', async () => {
    const sim = await simulator({ timings: { pendingMs: 50, runningMs: 200 } });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 8);
    const out = join(dir, 'out');
    const env = cliEnv(sim);
    const run = spawnCli(['run', manifest, '--out', out, '--quiet', ...SLOW_RATE], { env });
    await waitFor(() => sim.ledger().submissions.accepted.length >= 2);
    await new Promise((r) => setTimeout(r, 500));
    const atStop = sim.ledger().requests.counts.submit ?? 0;
    run.kill('SIGINT');
    const stopped = await run.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    // Nothing left the gate after the stop.
    expect(sim.ledger().requests.counts.submit ?? 0).toBe(atStop);

    const resumed = await runCli(['run', manifest, '--out', out, '--quiet'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = await readReport(out);
    expect(report.totals).toMatchObject({ tasks: 8, succeeded: 8, unknown: 0 });
    expect(sim.ledger().submissions.accepted).toHaveLength(8);
    await checkAgainstLedger(sim, out);
  });

  it('status from another process: a POST on the wire is pending (submitting); once its runner is dead, unknown', async () => {
    const { sim, untilOnTheWire } = await slowFirstSubmit(4000);
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 1);
    const out = join(dir, 'out');
    const env = cliEnv(sim);
    const run = spawnCli(['run', manifest, '--out', out, '--quiet'], { env });
    await untilOnTheWire();

    const during = await runCli(['status', out, '--json'], { env });
    expect(JSON.parse(during.stdout).totals).toMatchObject({ pending: 1, unknown: 0 });
    const text = await runCli(['status', out], { env });
    expect(text.stdout).toContain('pending:   1 (1 submitting)');

    run.kill('SIGKILL');
    await run.result;
    const after = await runCli(['status', out, '--json'], { env });
    expect(JSON.parse(after.stdout).totals).toMatchObject({ pending: 0, unknown: 1 });
  });
});
