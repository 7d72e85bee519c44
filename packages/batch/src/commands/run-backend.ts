import { writeReports } from '@flf2v/reporter';
import { connectRedis } from '../backend/redis/connection.js';
import { keyFingerprint, RedisKeys } from '../backend/redis/keys.js';
import { enqueueRun, readRunLog, runCounts } from '../backend/redis/run.js';
import { RedisWorker } from '../backend/redis/worker.js';
import { EXIT } from '../exit-codes.js';
import { readFilmRecord } from '../film/record.js';
import type { Plan } from '../manifest/types.js';
import { mergeLimits } from '../run/limits.js';
import { exitCodeOf, type SessionResult } from '../run/session.js';
import { buildSummary, planTotals } from '../run/summary.js';
import { createRunLogger } from '../util/logger.js';
import { onStopSignals } from '../util/stop-signals.js';
import { backendOf, exitOnStartFailure } from './_backend.js';
import { resolveProvider } from './_provider.js';
import type { RunFlags } from './_run-flags.js';
import { printOutcome, printRunJson } from './_run-outcome.js';

/** How often `run --backend` prints where the run is (without a terminal bar: the work is shared with other workers). */
const PROGRESS_EVERY_MS = 5_000;

/**
 * `flf2v run <manifest> --backend redis://… --out DIR`: enqueue, work in this process alongside any other workers
 * (on every run of the key, as a worker does), wait until this run is settled, write the reports; the exit codes
 * of a file-backend run.
 */
export async function runOnBackend(
  manifest: string,
  plan: Plan,
  outDir: string,
  flags: RunFlags,
  startedMs: number,
): Promise<number> {
  const address = backendOf(flags);
  const provider = await resolveProvider({}, process.env, { noSimulatorFlag: true });
  const limits = mergeLimits(plan.job.limits, flags);
  const { file } = await enqueueRun({
    address,
    apiKey: provider.apiKey,
    plan,
    manifestArg: manifest,
    outDir,
    limits,
    taskTimeoutMs: flags.taskTimeout,
    resubmitUnknown: flags.resubmitUnknown,
    retryFailed: flags.retryFailed,
  });
  const runId = file.runId;
  const keys = new RedisKeys(keyFingerprint(provider.apiKey));
  const redis = connectRedis(address, { name: 'flf2v:run' });
  const log = createRunLogger({ dir: outDir, verbose: flags.verbose, secrets: [provider.apiKey] });
  let interrupted = false;
  let settle = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  let worker: RedisWorker | undefined;
  const dispose = onStopSignals({
    stop: () => {
      interrupted = true;
      if (!flags.quiet) process.stderr.write('\nflf2v: stopping: no new submissions; letting calls settle\n');
      settle();
    },
    now: () => {
      worker?.abort();
      process.stderr.write('\nflf2v: stopped.\n');
      process.exit(EXIT.INTERRUPTED);
    },
  });
  let lastLine = Date.now();
  const timer = setInterval(async () => {
    if (worker?.fatal) settle();
    const counts = await runCounts(redis, keys, runId).catch(() => undefined);
    if (counts?.open === 0) settle();
    else if (counts && !flags.quiet && Date.now() - lastLine >= PROGRESS_EVERY_MS) {
      lastLine = Date.now();
      const p = counts.phases;
      process.stderr.write(
        `flf2v: run ${runId}: ${p.succeeded ?? 0} succeeded · ${p.failed ?? 0} failed · ${p.unknown ?? 0} unknown · ` +
          `${(p.submitted ?? 0) + (p.completed ?? 0)} at the provider · ${p.planned ?? 0} to send\n`,
      );
    }
  }, 250);
  try {
    worker = await RedisWorker.start({
      address,
      apiKey: provider.apiKey,
      baseUrl: provider.baseUrl,
      logger: log.logger,
      limits,
      onRunSettled: (id) => {
        if (id === runId) settle();
      },
    }).catch(async (error: unknown) => {
      await log.close();
      return exitOnStartFailure(error);
    });
    await settled;
  } finally {
    clearInterval(timer);
    await worker?.stop();
    dispose();
  }
  const fatal = worker?.fatal;
  const state = await readRunLog(redis, keys, runId);
  const { open } = await runCounts(redis, keys, runId);
  redis.disconnect();
  const summary = buildSummary({
    outDir,
    state,
    runState: open > 0 ? 'interrupted' : 'finished',
    stats: state.stats,
    film: await readFilmRecord(outDir),
  });
  await writeReports(outDir, summary);
  await log.close();
  const totals = planTotals(summary, new Set(plan.tasks.map((t) => t.key)));
  const outcome = { interrupted: interrupted && open > 0, ...(fatal ? { fatal } : {}) };
  const exitCode = exitCodeOf(outcome, totals);
  const result: SessionResult = { exitCode, outcome, summary, planTotals: totals, logFile: log.file };
  if (!flags.quiet) printOutcome(result, outDir, startedMs);
  if (flags.json) printRunJson(result, outDir);
  return exitCode;
}
