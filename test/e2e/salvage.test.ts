import { readdir, readFile, writeFile } from 'node:fs/promises';
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
  writeCsvJob,
} from './_helpers.js';

/**
 * `--salvage-state` on a finished run whose journal was damaged in the middle: every record that passes its
 * checksum is kept, after the damage too, so no task id and no download is forgotten and nothing is paid twice.
 * (Keeping only the records before the damage re-sent finished tasks and overwrote their videos.)
 */
/** A finished run of `tasks` tasks against the simulator. */
async function finishedRun(tasks: number) {
  const sim = await simulator({ timings: { pendingMs: 20, runningMs: 100 } });
  const dir = await tempDir();
  const manifest = await writeCsvJob(dir, tasks);
  const out = join(dir, 'out');
  const env = cliEnv(sim);
  expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env })).code).toBe(0);
  return { sim, manifest, out, env };
}

/**
 * One changed character in the first journal record of type `t`: its checksum no longer matches. Returns the
 * damaged line's number (1-based).
 */
async function damageFirst(out: string, t: string): Promise<number> {
  const journal = join(out, 'state', 'journal.jsonl');
  const lines = (await readFile(journal, 'utf8')).split('\n');
  const at = lines.findIndex((l) => l.includes(`"t":"${t}"`));
  expect(at, `a ${t} record`).toBeGreaterThanOrEqual(0);
  lines[at] = lines[at]!.replace(`"${t}"`, `"${t}x"`);
  await writeFile(journal, lines.join('\n'));
  return at + 1;
}

describe('--salvage-state', () => {
  it.each(['submitted', 'planned'])(
    'keeps the records after a damaged %s line: nothing re-sent, no video replaced, nothing wrongly unknown',
    async (kind) => {
      const { sim, manifest, out, env } = await finishedRun(6);
      const before = await readReport(out);
      // (A task whose `planned` record is lost is planned again from the manifest; its later records apply then.)
      const line = await damageFirst(out, kind);
      expect(line).toBeGreaterThan(1);

      const refused = await runCli(['run', manifest, '--out', out, '--quiet'], { env });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('E_JOURNAL_CORRUPT');

      const salvaged = await runCli(['run', manifest, '--out', out, '--salvage-state'], { env });
      expect(salvaged.code, salvaged.stderr).toBe(0);
      expect(salvaged.stderr).toContain(`passed over damaged line(s) ${line} of the state journal`);
      const after = await readReport(out);
      expect(after.totals).toMatchObject({ tasks: 6, succeeded: 6, unknown: 0 });
      const facts = (r: typeof before) =>
        r.tasks
          .map((t) => [t.id, t.submissions, t.videos])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(facts(after)).toEqual(facts(before));
      expect(sim.ledger().submissions.accepted).toHaveLength(6);
      // The damaged journal is kept beside the new one; the directory opens without --salvage-state again.
      expect((await readdir(join(out, 'state'))).some((f) => f.startsWith('journal.jsonl.damaged-'))).toBe(
        true,
      );
      expect((await runCli(['status', out], { env })).code).toBe(0);
      await checkAgainstLedger(sim, out);
    },
  );

  it('a damaged header line is salvaged too: a new header, nothing re-sent', async () => {
    const { sim, manifest, out, env } = await finishedRun(3);
    expect(await damageFirst(out, 'header')).toBe(1);
    const salvaged = await runCli(['run', manifest, '--out', out, '--salvage-state', '--quiet'], { env });
    expect(salvaged.code, salvaged.stderr).toBe(0);
    expect((await readReport(out)).totals).toMatchObject({ tasks: 3, succeeded: 3 });
    expect(sim.ledger().submissions.accepted).toHaveLength(3);
  });

  it('a damaged intent of a submit cut by kill -9 makes the task unknown: never sent again silently', async () => {
    const { sim, untilOnTheWire } = await slowFirstSubmit(3000);
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 1);
    const out = join(dir, 'out');
    const env = cliEnv(sim);
    const run = spawnCli(['run', manifest, '--out', out, '--quiet'], { env });
    await untilOnTheWire();
    run.kill('SIGKILL');
    await run.result;
    expect(await damageFirst(out, 'intent')).toBeGreaterThan(1);
    // Whether the cut POST created the task is what nobody can know: past its delay, the ledger says what it did.
    await new Promise((r) => setTimeout(r, 3500));
    const before = sim.ledger().submissions.accepted.length;

    const salvaged = await runCli(['run', manifest, '--out', out, '--salvage-state'], { env });
    expect(salvaged.code).toBe(1); // a task left unknown
    const report = await readReport(out);
    expect(report.totals).toMatchObject({ tasks: 1, unknown: 1 });
    expect(report.tasks[0]!.error?.message).toContain('a damaged line of the state journal may have been');
    expect(sim.ledger().submissions.accepted).toHaveLength(before);
  });
});
