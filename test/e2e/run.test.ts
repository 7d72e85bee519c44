import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  API_KEY,
  checkAgainstLedger,
  cliEnv,
  filesContaining,
  readReport,
  runCli,
  simulator,
  spawnCli,
  tempDir,
  waitFor,
  writeCsvJob,
} from './_helpers.js';

/** A 12-task run of 1.5 s tasks through the real CLI, caught with 4 of them accepted by the provider. */
async function runUnderWay(env: NodeJS.ProcessEnv = {}) {
  const sim = await simulator({ timings: { runningMs: 1500 } });
  const dir = await tempDir();
  const manifest = await writeCsvJob(dir, 12);
  const out = join(dir, 'out');
  const run = spawnCli(['run', manifest, '--out', out], { env: cliEnv(sim, env) });
  await waitFor(() => sim.ledger().submissions.accepted.length >= 4);
  return { sim, manifest, out, run };
}

describe('flf2v run (the real CLI against the simulator)', () => {
  it('runs a 50-task job with shared frames: every video downloaded, verified, each task sent once', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 50);
    const out = join(dir, 'out');
    const res = await runCli(['run', manifest, '--out', out, '--json', '--quiet'], { env: cliEnv(sim) });
    expect(res.code, res.stderr).toBe(0);
    const printed = JSON.parse(res.stdout);
    expect(printed.totals).toMatchObject({ tasks: 50, succeeded: 50, failed: 0 });

    const ledger = sim.ledger();
    expect(ledger.submissions.accepted).toHaveLength(50);
    // Four distinct frames, each uploaded once.
    expect(Object.values(ledger.uploads).map((u) => u.count)).toEqual([1, 1, 1, 1]);
    const report = await readReport(out);
    expect(report.tasks.every((t) => t.status === 'succeeded' && t.submissions === 1)).toBe(true);
    expect((await readdir(join(out, 'videos'))).sort()).toEqual(
      report.tasks.map((t) => `${t.id}.mp4`).sort(),
    );
    await checkAgainstLedger(sim, out);
    // The report counts exactly the requests the provider received (regression: counted twice at the end).
    const counts = ledger.requests.counts;
    expect(report.run.requests).toEqual({
      upload: counts.upload,
      submit: counts.submit,
      status: counts.status,
      result: counts.result,
      download: counts.download,
    });
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'report.junit.xml'))).toBe(true);
    // The key is in no file of the run directory.
    expect(await filesContaining(out, API_KEY)).toEqual([]);
    expect(res.stdout + res.stderr).not.toContain(API_KEY);
  });

  it('the same command again does nothing new; an added row is the only new submission', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 6);
    const out = join(dir, 'out');
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) })).code).toBe(0);
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) })).code).toBe(0);
    expect(sim.ledger().submissions.accepted).toHaveLength(6);
    await writeCsvJob(dir, 7);
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) })).code).toBe(0);
    expect(sim.ledger().submissions.accepted).toHaveLength(7);
    await checkAgainstLedger(sim, out);
  });

  it('stays within given submit, query and in-flight limits without a single 429', async () => {
    const sim = await simulator({
      limits: {
        submit: { max: 20, windowMs: 2000 },
        query: { max: 60, windowMs: 2000 },
        maxRunningPerKey: 3,
      },
    });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 24);
    const out = join(dir, 'out');
    const res = await runCli(
      [
        'run',
        manifest,
        '--out',
        out,
        '--quiet',
        '--submit-rpm',
        '600',
        '--query-rpm',
        '1800',
        '--max-in-flight',
        '3',
      ],
      { env: cliEnv(sim) },
    );
    expect(res.code, res.stderr).toBe(0);
    const ledger = sim.ledger();
    expect(ledger.rateLimited).toEqual({ upload: 0, submit: 0, status: 0, result: 0, download: 0 });
    expect(ledger.tasks.maxInFlight).toBeLessThanOrEqual(3);
    await checkAgainstLedger(sim, out);
  });

  it('adapts to limits it was not told about: 429s slow it down but fail no task', async () => {
    const sim = await simulator({
      limits: { submit: { max: 8, windowMs: 1000 }, query: { max: 40, windowMs: 1000 } },
    });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 24);
    const out = join(dir, 'out');
    const res = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect(res.code, res.stderr).toBe(0);
    expect((await readReport(out)).totals.succeeded).toBe(24);
    await checkAgainstLedger(sim, out);
  });

  it('rides out transient faults on every endpoint; only ambiguous submits end unknown, never re-sent', async () => {
    const sim = await simulator({
      seed: 11,
      faults: [
        { kind: 'http-5xx', status: 503, probability: 0.15 },
        { kind: 'rate-limit', probability: 0.1, retryAfterMs: 200 },
        { kind: 'reset-before', probability: 0.05, endpoints: ['status', 'result', 'download', 'upload'] },
        { kind: 'truncated', probability: 0.05, endpoints: ['status', 'result', 'download'] },
        { kind: 'non-json', probability: 0.05, endpoints: ['status', 'result'] },
        { kind: 'reset-after', probability: 0.1, endpoints: ['submit'] },
      ],
    });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 30);
    const out = join(dir, 'out');
    const res = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect([0, 1]).toContain(res.code);
    const report = await readReport(out);
    expect(report.totals.failed).toBe(0);
    expect(report.totals.pending).toBe(0);
    for (const t of report.tasks.filter((t) => t.status === 'unknown')) {
      expect(t.submissions).toBe(1);
    }
    await checkAgainstLedger(sim, out);
  });

  it('fails moderated and provider-failed tasks with their codes, and exits 1', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 4, {
      prompt: (i) => `shot ${i} ${i === 1 ? '[sim:moderation]' : i === 2 ? '[sim:fail]' : ''}`,
    });
    const out = join(dir, 'out');
    const res = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect(res.code).toBe(1);
    const report = await readReport(out);
    const byId = new Map(report.tasks.map((t) => [t.id, t]));
    expect(byId.get('shot-001')?.status).toBe('succeeded');
    expect(byId.get('shot-004')?.status).toBe('succeeded');
    expect(byId.get('shot-002')?.error?.code).toBe('E_MODERATION');
    expect(byId.get('shot-003')?.error?.code).toBe('E_TASK_FAILED');
  });

  it('refreshes expired result URLs with a new result query, never a resubmit', async () => {
    const sim = await simulator({
      timings: { urlTtlMs: 300 },
      faults: [{ kind: 'slow', endpoints: ['download'], delayMs: 600, count: 3 }],
    });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 3);
    const out = join(dir, 'out');
    const res = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect(res.code, res.stderr).toBe(0);
    const ledger = sim.ledger();
    expect(ledger.submissions.accepted).toHaveLength(3);
    expect(ledger.queries.result).toBeGreaterThan(3);
    await checkAgainstLedger(sim, out);
  });

  it('refuses a second runner on the same directory, saying who holds it', async () => {
    const sim = await simulator({ timings: { runningMs: 3000 } });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 2);
    const out = join(dir, 'out');
    const first = spawnCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    await waitFor(() => existsSync(join(out, 'state', 'lock.json')));
    const second = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`in use by pid ${first.pid}`));
    expect((await first.result).code).toBe(0);
  });

  it('stops on SIGINT with exit 130 and the resume command; the same command finishes without resending', async () => {
    const { sim, manifest, out, run } = await runUnderWay();
    run.kill('SIGINT');
    const stopped = await run.result;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain(`Resume with:\n  flf2v run ${manifest} --out ${out}\n`);
    const before = sim.ledger().submissions.accepted.length;
    const resumed = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect(resumed.code, resumed.stderr).toBe(0);
    const ledger = sim.ledger();
    expect(ledger.submissions.accepted.length).toBe(12);
    expect(before).toBeLessThanOrEqual(12);
    await checkAgainstLedger(sim, out);
  });

  it('takes a Ctrl-C forwarded by a wrapper (SIGINT, then SIGTERM at once) as one clean stop', async () => {
    // pnpm exec / pnpm run forward Ctrl-C as SIGINT followed by SIGTERM; the terminal also signals the group.
    // pnpm says who started the process in its environment, so the hint is the command the user typed.
    const { sim, manifest, out, run } = await runUnderWay({
      npm_command: 'exec',
      npm_config_user_agent: 'pnpm/10.34.8 npm/? node/v20.20.2 linux x64',
    });
    run.kill('SIGINT');
    run.kill('SIGTERM');
    run.kill('SIGINT');
    const stopped = await run.result;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).not.toContain('flf2v: stopped.');
    expect(stopped.stderr).toContain(`Resume with:\n  pnpm exec flf2v run ${manifest} --out ${out}\n`);
    expect(existsSync(join(out, 'state', 'lock.json'))).toBe(false);
    const resumed = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sim.ledger().submissions.accepted.length).toBe(12);
  });

  it('--simulator: the same command after a Ctrl-C resumes against the tasks the embedded simulator accepted', async () => {
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 6);
    const out = join(dir, 'out');
    const accepted = join(out, 'state', 'simulator-tasks.jsonl');
    const acceptedIds = () =>
      existsSync(accepted)
        ? readFileSync(accepted, 'utf8')
            .split('\n')
            .filter((l) => l.endsWith('}'))
            .map((l) => JSON.parse(l).id as string)
        : [];
    const run = spawnCli(['run', manifest, '--simulator', '--out', out], { env: cliEnv(undefined) });
    await waitFor(() => acceptedIds().length >= 3);
    run.kill('SIGINT');
    const stopped = await run.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(`--simulator --out ${out}`);
    const resumed = await runCli(['run', manifest, '--simulator', '--out', out, '--quiet'], {
      env: cliEnv(undefined),
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = await readReport(out);
    expect(report.totals).toMatchObject({ tasks: 6, succeeded: 6 });
    // Every task was accepted once, across both processes: nothing was sent twice.
    const ids = acceptedIds();
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
  });

  it('finishes downloads whose URLs died with an earlier provider process, with a result query, never a resubmit', async () => {
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 4);
    const out = join(dir, 'out');
    const taskFile = join(dir, 'sim-tasks.jsonl');
    // At the first simulator every download fails: the tasks complete, their videos wait, parked.
    const first = await simulator({
      taskFile,
      faults: [{ kind: 'http-5xx', endpoints: ['download'], probability: 1 }],
    });
    const run = spawnCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(first) });
    await waitFor(() => (first.ledger().requests.counts.download ?? 0) >= 4);
    run.kill('SIGINT');
    expect((await run.result).code).toBe(130);
    await first.close();
    // The provider comes back elsewhere (a new port): the recorded URLs point at nothing.
    const second = await simulator({ taskFile });
    const resumed = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(second) });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await readReport(out)).totals).toMatchObject({ tasks: 4, succeeded: 4, failed: 0 });
    expect(second.ledger().submissions.accepted).toHaveLength(0);
    expect(second.ledger().queries.result).toBeGreaterThanOrEqual(4);
  });

  it('stops on a local disk problem with E_LOCAL_IO, keeps every task, and the same command finishes once it is fixed', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 3);
    const out = join(dir, 'out');
    // A directory where one video's part file goes: that video cannot be written, as on a full disk.
    const blocked = join(out, 'videos', 'shot-002.mp4.part');
    mkdirSync(blocked, { recursive: true });
    const stopped = await runCli(['run', manifest, '--out', out], { env: cliEnv(sim) });
    expect(stopped.code, stopped.stderr).toBe(3);
    expect(stopped.stderr).toMatch(/the part file \(EISDIR\) \[E_LOCAL_IO\]/);
    expect(stopped.stderr).toContain('Nothing is lost: fix that, then resume with:');
    const report = await readReport(out);
    expect(report.totals.failed).toBe(0);
    expect(report.run.stoppedBy?.code).toBe('E_LOCAL_IO');
    rmSync(blocked, { recursive: true });
    const resumed = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await readReport(out)).totals).toMatchObject({ tasks: 3, succeeded: 3 });
    expect(sim.ledger().submissions.accepted).toHaveLength(3);
    await checkAgainstLedger(sim, out);
  });

  it('refuses to continue a --simulator rehearsal against the real provider in the same directory', async () => {
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 2);
    const out = join(dir, 'out');
    const rehearsal = await runCli(['run', manifest, '--simulator', '--out', out, '--quiet'], {
      env: cliEnv(undefined),
    });
    expect(rehearsal.code, rehearsal.stderr).toBe(0);
    const journal = readFileSync(join(out, 'state', 'journal.jsonl'), 'utf8');
    // The refusal comes before any request: an unreachable provider address proves nothing was tried.
    const real = await runCli(['run', manifest, '--out', out, '--quiet'], {
      env: { ...cliEnv(undefined), BAICAI_API_KEY: API_KEY, BAICAI_BASE_URL: 'https://provider.invalid' },
    });
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('E_OTHER_PROVIDER');
    expect(real.stderr).toContain('holds work sent to a simulator (2 task(s) submitted there)');
    expect(real.stderr).toContain('Choose another --out');
    expect(readFileSync(join(out, 'state', 'journal.jsonl'), 'utf8')).toBe(journal);
    expect(existsSync(join(out, 'state', 'lock.json'))).toBe(false);
  });

  it('exits 2 and sends nothing for an invalid manifest', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 3, { row: (i) => ({ duration: i === 1 ? 7 : 5 }) });
    const out = join(dir, 'out');
    const res = await runCli(['run', manifest, '--out', out], { env: cliEnv(sim) });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /tasks\.csv row 3, column duration \(task shot-002\): expected 5, 6 or 8, got "7"/,
    );
    expect(sim.ledger().requests.log.filter((r) => r.endpoint !== 'ledger')).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 3 with a clear message when no API key is set', async () => {
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 1);
    const res = await runCli(['run', manifest, '--out', join(dir, 'out')], { env: cliEnv(undefined) });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('BAICAI_API_KEY');
  });

  it('exits 3 on a wrong key after one request, with E_AUTH', async () => {
    const sim = await simulator({ key: 'sk-the-right-key-1234567890' });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 5);
    const res = await runCli(['run', manifest, '--out', join(dir, 'out'), '--quiet'], { env: cliEnv(sim) });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('E_AUTH');
    expect(sim.ledger().submissions.accepted).toHaveLength(0);
    // The report says what stopped the run, and `flf2v report` re-renders it from the state alone.
    const out = join(dir, 'out');
    expect((await readReport(out)).run).toMatchObject({
      state: 'interrupted',
      stoppedBy: { code: 'E_AUTH' },
    });
    const rerendered = await runCli(['report', out], { env: cliEnv(undefined) });
    expect(rerendered.code, rerendered.stderr).toBe(0);
    expect((await readReport(out)).run).toMatchObject({ stoppedBy: { code: 'E_AUTH' } });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Stopped by <code>E_AUTH</code>');
  });
});
