import { existsSync } from 'node:fs';
import { readFile, readlink, rename, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Simulator } from '@flf2v/simulator';
import { afterEach, describe, expect, it } from 'vitest';
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
  writeCsvJob,
} from './_helpers.js';

/**
 * `flf2v schedule` end to end: the real CLI on a seconds-level cron against the simulator. No timing
 * assertions: every wait is "until this holds", with a generous timeout against hangs.
 */

interface Entry {
  id: string;
  state: string;
  continued?: boolean;
  exitCode?: number;
  runDir?: string;
  totals?: { tasks: number; succeeded: number };
  skipped?: { succeededEarlier: number; heldEarlier: number };
  skippedFirings?: number;
  problems?: { errors: number; messages: string[] };
  reports?: { html: string; json: string };
}

async function history(root: string): Promise<Entry[]> {
  try {
    const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as { runs: Entry[] };
    return index.runs;
  } catch {
    return [];
  }
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 40_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs in the history that finished with every task succeeded, with this many tasks. */
function finishedRun(runs: Entry[], tasks: number): Entry | undefined {
  return runs.find((r) => r.state === 'succeeded' && r.runDir && r.totals?.tasks === tasks);
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A webhook receiver on port 0; the first `failFirst` requests get 503. */
async function webhookReceiver(failFirst = 0) {
  const bodies: string[] = [];
  const statuses: number[] = [];
  const server = createServer((req, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const status = statuses.length < failFirst ? 503 : 200;
      statuses.push(status);
      if (status === 200) bodies.push(body);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, bodies, statuses, parsed: () => bodies.map((b) => JSON.parse(b) as Record<string, unknown>) };
}

/**
 * Rewrite the job's CSV with `rows` rows the way an editor saves: a complete new file renamed over the old
 * one, so a firing never reads half a sheet.
 */
async function saveSheet(
  dir: string,
  rows: number,
  options: Parameters<typeof writeCsvJob>[2],
): Promise<void> {
  const stage = join(dir, 'stage');
  await writeCsvJob(stage, rows, options);
  await rename(join(stage, 'tasks.csv'), join(dir, 'tasks.csv'));
}

function distinctAccepted(sim: Simulator): number {
  return new Set(sim.ledger().submissions.accepted.map((s) => s.bodyHash)).size;
}

describe('flf2v schedule (the real CLI on a seconds-level cron)', () => {
  it('fires repeatedly: appended rows are generated exactly once, an overlapping firing is skipped, the webhook is retried', async () => {
    // Tasks outlast the 2 s interval, so a firing lands while a run is going.
    const sim = await simulator({ timings: { runningMs: 2500 } });
    const hook = await webhookReceiver(1);
    const dir = await tempDir();
    const yaml = `schedule: "*/2 * * * * *"\nnotify:\n  webhook: ${hook.url}\n`;
    await writeCsvJob(dir, 3, { name: 'nightly', yaml });
    const root = join(dir, 'runs', 'nightly');
    const child = spawnCli(['schedule', 'job.yaml', '--run-now'], { cwd: dir, env: cliEnv(sim) });

    const first = await until(async () => finishedRun(await history(root), 3), 'the first run finished');
    await saveSheet(dir, 5, { name: 'nightly', yaml }); // rows 4 and 5 appended
    const second = await until(async () => finishedRun(await history(root), 2), 'the appended rows ran');
    expect(second.skipped).toEqual({ succeededEarlier: 3, heldEarlier: 0 });
    await saveSheet(dir, 6, { name: 'nightly', yaml });
    const third = await until(async () => finishedRun(await history(root), 1), 'the last row ran');
    await until(
      async () => (hook.parsed().some((b) => b.runDir === join(root, third.runDir!)) ? true : undefined),
      'the last run was notified',
    );

    child.kill('SIGTERM');
    const res = await child.result;
    expect(res.code, res.stderr).toBe(0);

    // Exactly once: six distinct rows, six submissions, each a different body.
    const ledger = sim.ledger();
    expect(ledger.submissions.accepted).toHaveLength(6);
    expect(distinctAccepted(sim)).toBe(6);
    const runs = await history(root);
    const made = runs.filter((r) => r.runDir);
    expect(made.map((r) => r.runDir)).toEqual([first.runDir, second.runDir, third.runDir]);
    let disclosed = 0;
    for (const run of made) {
      const report = await readReport(join(root, run.runDir!));
      expect(report.totals.failed).toBe(0);
      disclosed += report.tasks.reduce((n, t) => n + t.submissions, 0);
      for (const t of report.tasks) expect(existsSync(join(root, run.runDir!, t.videos[0]!.path))).toBe(true);
    }
    expect(disclosed).toBe(6);
    // Firings in between had nothing new; none made a directory.
    expect(runs.filter((r) => !r.runDir).every((r) => r.state === 'up-to-date')).toBe(true);

    // The overlapping firing: skipped, logged, counted on the run it collided with.
    expect(runs.reduce((n, r) => n + (r.skippedFirings ?? 0), 0)).toBeGreaterThanOrEqual(1);
    expect(res.stderr).toMatch(
      /nightly: firing skipped: the previous run \(runs\/nightly\/[\d_-]+\) is still going/,
    );
    expect(await readFile(join(root, 'scheduler.log'), 'utf8')).toContain('"msg":"firing skipped"');
    expect(res.stderr).toMatch(/nightly: runs\/nightly\/[\d_-]+: 2 succeeded of 2 task\(s\), 3 done earlier/);

    // History, latest pointer.
    expect(await readlink(join(root, 'latest'))).toBe(third.runDir);
    expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8'))).toMatchObject({
      runDir: third.runDir,
    });
    const html = await readFile(join(root, 'index.html'), 'utf8');
    for (const run of made) expect(html).toContain(`href="${run.runDir}/report.html"`);

    // The webhook: the first attempt got 503 and was retried; every run was notified; no key anywhere.
    expect(hook.statuses[0]).toBe(503);
    const notes = hook.parsed();
    for (const run of made) {
      const note = notes.find((b) => b.runDir === join(root, run.runDir!));
      expect(note).toMatchObject({
        schemaVersion: 1,
        event: 'firing.finished',
        job: 'nightly',
        state: 'succeeded',
        exitCode: 0,
        totals: { tasks: run.totals!.tasks, succeeded: run.totals!.tasks },
        reports: { html: join(root, run.runDir!, 'report.html') },
      });
    }
    expect(hook.bodies.join('\n')).not.toContain(API_KEY);
    expect(await filesContaining(dir, API_KEY)).toEqual([]);
    expect(res.stdout + res.stderr).not.toContain(API_KEY);
  });

  it('SIGTERM mid-run exits 0 and leaves the run resumable: flf2v run --out finishes it without re-sending', async () => {
    const sim = await simulator({ timings: { runningMs: 4000 } });
    const dir = await tempDir();
    // A yearly schedule: only --run-now fires during the test.
    const manifest = await writeCsvJob(dir, 4, { name: 'yearly', yaml: 'schedule: "0 0 1 1 *"\n' });
    const root = join(dir, 'runs', 'yearly');
    const child = spawnCli(['schedule', manifest, '--run-now'], { cwd: dir, env: cliEnv(sim) });
    await until(
      async () => (sim.ledger().submissions.accepted.length === 4 ? true : undefined),
      'all 4 sent',
    );
    child.kill('SIGTERM');
    const res = await child.result;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('interrupted, exit 130');

    const [entry] = await history(root);
    expect(entry).toMatchObject({ state: 'interrupted', exitCode: 130 });
    const runDir = join(root, entry!.runDir!);
    expect(existsSync(join(runDir, 'state', 'journal.jsonl'))).toBe(true);
    expect(existsSync(join(runDir, 'state', 'lock.json'))).toBe(false);
    expect(existsSync(join(root, '.schedule', 'state', 'lock.json'))).toBe(false);

    const resumed = await runCli(['run', manifest, '--out', runDir, '--quiet'], { env: cliEnv(sim) });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sim.ledger().submissions.accepted).toHaveLength(4);
    expect((await readReport(runDir)).totals.succeeded).toBe(4);
    await checkAgainstLedger(sim, runDir);
  });

  it('a restarted scheduler continues the interrupted run in its directory, sending nothing twice', async () => {
    const sim = await simulator({ timings: { runningMs: 3000 } });
    const dir = await tempDir();
    await writeCsvJob(dir, 3, { name: 'restart', yaml: 'schedule: "0 0 1 1 *"\n' });
    const root = join(dir, 'runs', 'restart');
    const first = spawnCli(['schedule', 'job.yaml', '--run-now'], { cwd: dir, env: cliEnv(sim) });
    await until(
      async () => (sim.ledger().submissions.accepted.length === 3 ? true : undefined),
      'all 3 sent',
    );
    first.kill('SIGTERM');
    expect((await first.result).code).toBe(0);
    // A row added meanwhile joins the continued run.
    await saveSheet(dir, 4, { name: 'restart', yaml: 'schedule: "0 0 1 1 *"\n' });

    const second = spawnCli(['schedule', 'job.yaml', '--run-now'], { cwd: dir, env: cliEnv(sim) });
    const continued = await until(
      async () => (await history(root)).find((r) => r.state === 'succeeded'),
      'the continued run finished',
    );
    second.kill('SIGTERM');
    const res = await second.result;
    expect(res.code, res.stderr).toBe(0);
    const runs = await history(root);
    expect(runs.map((r) => r.state)).toEqual(['interrupted', 'succeeded']);
    expect(continued).toMatchObject({
      continued: true,
      runDir: runs[0]!.runDir,
      totals: { tasks: 4, succeeded: 4 },
    });
    expect(sim.ledger().submissions.accepted).toHaveLength(4);
    await checkAgainstLedger(sim, join(root, continued.runDir!));
  });

  it('a job file that turns invalid is recorded as an invalid firing and the scheduler carries on; --full regenerates', async () => {
    const sim = await simulator();
    const hook = await webhookReceiver();
    const dir = await tempDir();
    const yaml = `schedule: "*/2 * * * * *"\nnotify: { webhook: "${hook.url}" }\n`;
    await writeCsvJob(dir, 1, { name: 'sheet', yaml });
    await writeFile(join(dir, 'plain.yaml'), 'version: 1\nname: plain\ntasks_csv: tasks.csv\n');
    await writeFile(
      join(dir, 'broken.yaml'),
      'version: 1\nname: broken\nschedule: "0 25 * * *"\ntasks_csv: tasks.csv\n',
    );
    const root = join(dir, 'runs', 'sheet');
    const child = spawnCli(['schedule', '.', '--run-now'], { cwd: dir, env: cliEnv(sim) });
    await until(async () => finishedRun(await history(root), 1), 'the first run finished');

    // Someone saves the sheet with a bad duration: nothing is sent, the firing is recorded as invalid.
    await saveSheet(dir, 2, { name: 'sheet', yaml, row: (i) => ({ duration: i === 1 ? 7 : 5 }) });
    const invalid = await until(
      async () => (await history(root)).find((r) => r.state === 'invalid'),
      'an invalid firing',
    );
    expect(invalid.exitCode).toBe(2);
    expect(invalid.problems?.messages.join('\n')).toMatch(
      /tasks\.csv row 3, column duration.*expected 5, 6 or 8, got "7"/,
    );
    expect(sim.ledger().submissions.accepted).toHaveLength(1);
    await until(
      async () => (hook.parsed().some((b) => b.state === 'invalid') ? true : undefined),
      'invalid notified',
    );

    // Fixed: the next firing runs the new row only.
    await saveSheet(dir, 2, { name: 'sheet', yaml, row: () => ({ duration: 5 }) });
    await until(
      async () =>
        (await history(root)).find(
          (r) => r.state === 'succeeded' && r.totals?.tasks === 1 && r.skipped?.succeededEarlier === 1,
        ),
      'the fixed row ran',
    );
    expect(sim.ledger().submissions.accepted).toHaveLength(2);
    child.kill('SIGTERM');
    const res = await child.result;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('plain.yaml: no schedule:, ignored');
    expect(res.stderr).toMatch(
      /broken\.yaml: not scheduled:\n {2}broken\.yaml:3:11: schedule: expected a valid cron expression/,
    );
    expect(res.stderr).toMatch(
      /sheet: job\.yaml is invalid \(1 error\(s\)\); nothing sent\n {2}error: tasks\.csv row 3, column duration/,
    );

    // --full ignores earlier runs: both rows are generated again, in a new directory.
    const full = spawnCli(['schedule', 'job.yaml', '--run-now', '--full'], { cwd: dir, env: cliEnv(sim) });
    await until(
      async () =>
        (await history(root)).some((r) => r.state === 'succeeded' && r.totals?.tasks === 2)
          ? true
          : undefined,
      'the --full run finished',
    );
    full.kill('SIGTERM');
    expect((await full.result).code).toBe(0);
    expect(sim.ledger().submissions.accepted).toHaveLength(4);
  });
});
