import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readBackendFile } from '../backend/redis/run-dir.js';
import { usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatPlanSummary, planToJson } from '../manifest/format.js';
import type { Plan } from '../manifest/types.js';
import { mergeLimits } from '../run/limits.js';
import { runSession } from '../run/session.js';
import { sessionTakes, unknownRetakes } from '../run/takes.js';
import { fileBackend } from '../state/backend.js';
import { RunState } from '../state/run-state.js';
import { invokedAs } from '../util/invocation.js';
import { onStopSignals } from '../util/stop-signals.js';
import { refuseTakes } from './_backend.js';
import { resolveProvider } from './_provider.js';
import { type RunFlags, resolveOutDir } from './_run-flags.js';
import { formatRetakes, loadValidPlan, printOutcome, printRunJson } from './_run-outcome.js';

/** What `--retake` would do in `outDir` as it stands (read only; for `--dry-run`). */
async function retakesIn(plan: Plan, outDir: string, retake: string[]) {
  const state = (await fileBackend.holds(outDir)) ? await fileBackend.read(outDir) : new RunState();
  return sessionTakes(plan, state, retake).retakes;
}

export async function runCommand(manifest: string, raw: Record<string, unknown>): Promise<number> {
  const flags = raw as RunFlags;
  const startedMs = Date.now();
  const plan = await loadValidPlan(manifest, flags);
  if (typeof plan === 'number') return plan;
  const unknown = unknownRetakes(plan, flags.retake ?? []);
  if (unknown.length > 0) throw usageError(`${unknown.join('\n')}\nnothing was sent`);
  const outDir = resolveOutDir(plan, flags.out);
  if (flags.dryRun) {
    if (flags.json) process.stdout.write(`${JSON.stringify(planToJson(plan), null, 2)}\n`);
    else {
      process.stdout.write(formatPlanSummary(plan));
      if (flags.retake)
        process.stdout.write(formatRetakes(await retakesIn(plan, outDir, flags.retake), true));
      process.stdout.write('dry run: nothing was sent.\n');
    }
    return EXIT.OK;
  }
  if (flags.backend) {
    refuseTakes(plan);
    const { runOnBackend } = await import('./run-backend.js');
    return runOnBackend(manifest, plan, outDir, flags, startedMs);
  }
  if (await readBackendFile(outDir)) {
    throw usageError(
      `${outDir} holds a run on a Redis backend (its backend.json): run it with --backend, or choose another --out`,
    );
  }
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
      retake: flags.retake,
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
    if (flags.json) printRunJson(result, outDir);
    return result.exitCode;
  } finally {
    disposeSignals();
    await provider.close();
  }
}
