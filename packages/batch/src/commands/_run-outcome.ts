import { join, relative } from 'node:path';
import { REPORT_FILES } from '@flf2v/reporter';
import { EXIT } from '../exit-codes.js';
import { formatProblems, planToJson } from '../manifest/format.js';
import { loadPlan } from '../manifest/plan.js';
import { shotName } from '../manifest/take.js';
import type { Plan } from '../manifest/types.js';
import type { SessionResult } from '../run/session.js';
import type { RetakeOutcome } from '../run/takes.js';
import { formatDuration } from '../util/format.js';
import { invokedAs } from '../util/invocation.js';

/** What `run` and `enqueue` share: the manifest checked whole, every problem printed; invalid → exit 2, nothing sent. */
export async function loadValidPlan(
  manifest: string,
  flags: { strict?: boolean; encoding?: string; json?: boolean; prepare?: boolean },
): Promise<Plan | number> {
  const plan = await loadPlan(manifest, {
    strict: flags.strict,
    encoding: flags.encoding,
    // `--no-prepare`
    ...(flags.prepare === false ? { prepare: { enabled: false } } : {}),
  });
  const problems = formatProblems(plan.problems);
  if (problems) process.stderr.write(problems);
  if (plan.summary.errors > 0) {
    process.stderr.write(`flf2v: ${manifest} is invalid; nothing was sent.\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(planToJson(plan), null, 2)}\n`);
    return EXIT.USAGE;
  }
  return plan;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** The same command, with `--out` pinned so a resumed `{date}` job lands in the same directory. */
export function resumeCommand(outDir: string): string {
  const args = process.argv.slice(2);
  if (!args.includes('--out')) args.push('--out', relative(process.cwd(), outDir) || '.');
  return [invokedAs(), ...args.map(shellQuote)].join(' ');
}

/** One line per `--retake` id: the take it started, or the unfinished one it continued (`dryRun`: would). */
export function formatRetakes(retakes: readonly RetakeOutcome[], dryRun = false): string {
  return retakes
    .map((r) =>
      r.started
        ? `  ${r.id}: take ${r.take} ${dryRun ? 'would be' : 'was'} started\n`
        : `  ${r.id}: take ${r.take} has not finished (${r.phase}): it ${dryRun ? 'would be' : 'was'} continued, not started again; --retake starts take ${r.take + 1} once it has succeeded or failed\n`,
    )
    .join('');
}

/** The end of a run on stderr: totals, the failures, what to do about unknown, parked or removed tasks. */
export function printOutcome(result: SessionResult, outDir: string, startedMs: number): void {
  const t = result.planTotals;
  const rel = relative(process.cwd(), outDir) || '.';
  const parts = [`${t.succeeded} succeeded`];
  if (t.failed) parts.push(`${t.failed} failed`);
  if (t.unknown) parts.push(`${t.unknown} unknown`);
  if (t.pending) parts.push(`${t.pending} pending`);
  const err = process.stderr;
  if (result.retakes?.length) err.write(`flf2v: --retake:\n${formatRetakes(result.retakes)}`);
  err.write(`flf2v: ${parts.join(', ')} of ${t.tasks} tasks in ${formatDuration(Date.now() - startedMs)}\n`);
  const failed = result.summary.tasks.filter((task) => task.status === 'failed' && task.error);
  for (const task of failed.slice(0, 10))
    err.write(`  ✗ ${shotName(task)}: ${task.error!.message} [${task.error!.code}]\n`);
  if (failed.length > 10) err.write(`  … and ${failed.length - 10} more (see the report)\n`);
  if (t.unknown) {
    err.write(
      `  ? ${t.unknown} task(s) may or may not have reached the provider; they were not re-sent. ` +
        'Check them, then pass --resubmit-unknown to send them again (each re-send is counted in the report).\n',
    );
  }
  if (t.failed) err.write('  Re-run failed tasks with --retry-failed.\n');
  const parked = result.summary.tasks.filter(
    (task) => task.stage === 'budget' || task.stage === 'stalled',
  ).length;
  if (parked)
    err.write(
      `  ${parked} task(s) parked (over --max-videos, or stalled past --task-timeout); the same command continues them.\n`,
    );
  const removed = result.summary.run.removedTasks ?? 0;
  if (removed) {
    err.write(
      `  ${removed} task(s) of earlier runs here are no longer in the manifest; they were left alone.\n`,
    );
  }
  err.write(`  report: ${join(rel, REPORT_FILES.html)}\n`);
  if (result.outcome.interrupted) {
    err.write(`flf2v: interrupted; state saved. Resume with:\n  ${resumeCommand(outDir)}\n`);
  }
  if (result.outcome.fatal) {
    err.write(`flf2v: ${result.outcome.fatal.message} [${result.outcome.fatal.code}]\n`);
    // A local problem (full disk, permissions) stopped a run whose tasks are all kept: say how to continue.
    if (
      result.outcome.fatal.code === 'E_LOCAL_IO' &&
      !result.outcome.fatal.message.includes('same command')
    ) {
      err.write(`  Nothing is lost: fix that, then resume with:\n  ${resumeCommand(outDir)}\n`);
    }
  }
}

/** `--json`: the run's outcome on stdout, for scripts. */
export function printRunJson(result: SessionResult, outDir: string): void {
  process.stdout.write(
    `${JSON.stringify(
      {
        exitCode: result.exitCode,
        outDir,
        interrupted: result.outcome.interrupted,
        error: result.outcome.fatal?.toJSON(),
        totals: result.summary.totals,
        plan: result.planTotals,
        report: {
          json: join(outDir, REPORT_FILES.json),
          html: join(outDir, REPORT_FILES.html),
          junit: join(outDir, REPORT_FILES.junit),
        },
      },
      null,
      2,
    )}\n`,
  );
}
