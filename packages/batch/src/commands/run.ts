import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { REPORT_FILES } from '@flf2v/reporter';
import { EXIT } from '../exit-codes.js';
import { formatPlanSummary, formatProblems, planToJson } from '../manifest/format.js';
import { expandOutTemplate } from '../manifest/out.js';
import { loadPlan } from '../manifest/plan.js';
import type { Plan } from '../manifest/types.js';
import { mergeLimits } from '../run/limits.js';
import { runSession, type SessionResult } from '../run/session.js';
import { formatDuration } from '../util/format.js';
import { invokedAs } from '../util/invocation.js';
import { onStopSignals } from '../util/stop-signals.js';
import { resolveProvider } from './_provider.js';

export interface RunFlags {
  out?: string;
  submitRpm?: number;
  queryRpm?: number;
  maxInFlight?: number;
  resubmitUnknown?: boolean;
  retryFailed?: boolean;
  maxVideos?: number;
  taskTimeout?: number;
  dryRun?: boolean;
  strict?: boolean;
  encoding?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  simulator?: boolean;
  simulatorConfig?: string;
  salvageState?: boolean;
}

/** `--out`, else the job's `out:` (with {date}/{time}), else `runs/<job name>`. */
export function resolveOutDir(plan: Plan, out: string | undefined, at = new Date()): string {
  if (out) return resolve(out);
  if (plan.job.out) return resolve(expandOutTemplate(plan.job.out, at, plan.job.timezone));
  return resolve(join('runs', plan.job.name));
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** The same command, with `--out` pinned so a resumed `{date}` job lands in the same directory. */
function resumeCommand(outDir: string): string {
  const args = process.argv.slice(2);
  if (!args.includes('--out')) args.push('--out', relative(process.cwd(), outDir) || '.');
  return [invokedAs(), ...args.map(shellQuote)].join(' ');
}

function printOutcome(result: SessionResult, outDir: string, startedMs: number): void {
  const t = result.planTotals;
  const rel = relative(process.cwd(), outDir) || '.';
  const parts = [`${t.succeeded} succeeded`];
  if (t.failed) parts.push(`${t.failed} failed`);
  if (t.unknown) parts.push(`${t.unknown} unknown`);
  if (t.pending) parts.push(`${t.pending} pending`);
  const err = process.stderr;
  err.write(`flf2v: ${parts.join(', ')} of ${t.tasks} tasks in ${formatDuration(Date.now() - startedMs)}\n`);
  const failed = result.summary.tasks.filter((task) => task.status === 'failed' && task.error);
  for (const task of failed.slice(0, 10))
    err.write(`  ✗ ${task.id}: ${task.error!.message} [${task.error!.code}]\n`);
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

export async function runCommand(manifest: string, raw: Record<string, unknown>): Promise<number> {
  const flags = raw as RunFlags;
  const startedMs = Date.now();
  const plan = await loadPlan(manifest, { strict: flags.strict, encoding: flags.encoding });
  const problems = formatProblems(plan.problems);
  if (problems) process.stderr.write(problems);
  if (plan.summary.errors > 0) {
    process.stderr.write(`flf2v: ${manifest} is invalid; nothing was sent.\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(planToJson(plan), null, 2)}\n`);
    return EXIT.USAGE;
  }
  if (flags.dryRun) {
    if (flags.json) process.stdout.write(`${JSON.stringify(planToJson(plan), null, 2)}\n`);
    else process.stdout.write(`${formatPlanSummary(plan)}dry run: nothing was sent.\n`);
    return EXIT.OK;
  }
  const outDir = resolveOutDir(plan, flags.out);
  // The embedded simulator keeps its tasks and the frames uploaded to it beside the journal, so that the same
  // command after a Ctrl-C or a crash resumes against the tasks and frame URLs it had.
  const provider = await resolveProvider(flags, process.env, {
    simulatorTaskFile: join(outDir, 'state', 'simulator-tasks.jsonl'),
    simulatorUploadDir: join(outDir, 'state', 'simulator-uploads'),
  });
  const stop = new AbortController();
  const hard = new AbortController();
  const disposeSignals = onStopSignals({
    stop: () => {
      process.stderr.write(
        '\nflf2v: stopping: no new submissions; letting calls in flight settle (again to stop now)\n',
      );
      stop.abort();
    },
    now: () => {
      // The journal is consistent at every write; leaving now loses nothing that was acknowledged, and the
      // lock is given back on exit.
      hard.abort();
      process.stderr.write('\nflf2v: stopped.\n');
      process.exit(EXIT.INTERRUPTED);
    },
  });
  try {
    await mkdir(outDir, { recursive: true });
    if (provider.simulator && !flags.quiet) {
      process.stderr.write(
        `flf2v: using the embedded simulator at ${provider.baseUrl} (no API key needed)\n`,
      );
    }
    const tty = Boolean(process.stderr.isTTY) && !flags.verbose;
    const result = await runSession({
      plan,
      manifestArg: manifest,
      outDir,
      apiKey: provider.apiKey,
      baseUrl: provider.baseUrl,
      simulator: provider.simulator !== undefined,
      limits: mergeLimits(plan.job.limits, flags),
      resubmitUnknown: flags.resubmitUnknown,
      retryFailed: flags.retryFailed,
      maxVideos: flags.maxVideos,
      taskTimeoutMs: flags.taskTimeout,
      salvageState: flags.salvageState,
      verbose: flags.verbose,
      progress: flags.quiet ? false : { stream: process.stderr, tty },
      command: [invokedAs(), ...process.argv.slice(2)].join(' '),
      signal: stop.signal,
      abortHard: hard.signal,
    });
    if (!flags.quiet) printOutcome(result, outDir, startedMs);
    else if (result.outcome.fatal) {
      process.stderr.write(`flf2v: ${result.outcome.fatal.message} [${result.outcome.fatal.code}]\n`);
    }
    if (flags.json) {
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
    return result.exitCode;
  } finally {
    disposeSignals();
    await provider.close();
  }
}
