import { hostname } from 'node:os';
import { type Client, createClient, Flf2vError } from '@flf2v/core';
import { type RunSummary, writeReports } from '@flf2v/reporter';
import { BatchError, internalError } from '../errors.js';
import { EXIT, type ExitCode, exitCodeFor } from '../exit-codes.js';
import { readFilmRecord } from '../film/record.js';
import type { JobLimits, Plan } from '../manifest/types.js';
import { fileBackend } from '../state/backend.js';
import { acquireLock, type RunLock } from '../state/lock.js';
import type { ProviderIdentity } from '../state/records.js';
import type { RunState } from '../state/run-state.js';
import type { StateStore } from '../state/store.js';
import { localIoFailure } from '../util/local-io.js';
import { createRunLogger, type FileLogger } from '../util/logger.js';
import { TOOL_VERSION } from '../version.js';
import { RunClock } from './clock.js';
import { RateLimiter } from './limiter.js';
import { Pipeline, type RunOutcome } from './pipeline/driver.js';
import { Progress, type ProgressOptions } from './progress.js';
import { SessionStats } from './stats.js';
import { buildSummary, type PlanTotals, planTotals } from './summary.js';
import { type RetakeOutcome, sessionTakes } from './takes.js';
import { openUploadCache } from './upload-cache.js';

/**
 * One pipeline session on a run directory: lock, state, client, pipeline, periodic reports, final report.
 * Used by `flf2v run` and by `flf2v schedule` for each firing. Never sends anything for an invalid plan: the
 * caller validates first.
 */

export interface SessionOptions {
  plan: Plan;
  /** The manifest path as the user gave it (for reports and the resume hint). */
  manifestArg: string;
  outDir: string;
  apiKey: string;
  baseUrl: string;
  /** `baseUrl` is the embedded simulator (`--simulator`). */
  simulator?: boolean;
  limits: JobLimits;
  resubmitUnknown?: boolean;
  retryFailed?: boolean;
  /** `--retake`: ids of shots to generate again, each as a new take (see `run/takes.ts`). */
  retake?: readonly string[];
  maxVideos?: number;
  taskTimeoutMs?: number;
  salvageState?: boolean;
  verbose?: boolean;
  /** Progress output, or false for none. */
  progress?: Omit<ProgressOptions, never> | false;
  /** Refresh the reports this often while running. @default 5000 */
  reportEveryMs?: number;
  /** The command line recorded in the lock, for "who holds it" messages. */
  command: string;
  /** Aborting it asks the session to stop (first SIGINT); `abortHard` (second) stops at once. */
  signal?: AbortSignal;
  abortHard?: AbortSignal;
  /** Upload cache directory (defaults to the user cache dir). */
  cacheDir?: string;
  /** Keep the upload cache out of it entirely. */
  noUploadCache?: boolean;
}

export interface SessionResult {
  exitCode: ExitCode;
  outcome: RunOutcome;
  summary: RunSummary;
  /** Tasks of the current plan by outcome (the exit code is decided on these). */
  planTotals: PlanTotals;
  /** What each `--retake` id did: a take started, or an unfinished one continued (none: no `--retake`). */
  retakes?: RetakeOutcome[];
  logFile: string;
}

export async function runSession(o: SessionOptions): Promise<SessionResult> {
  const lock: RunLock = await acquireLock(o.outDir, { command: o.command });
  let store: StateStore | undefined;
  let log: FileLogger | undefined;
  let client: Client | undefined;
  try {
    store = await fileBackend.open(o.outDir, {
      create: { job: o.plan.job.name, manifestHash: o.plan.manifest.hash, tool: `flf2v/${TOOL_VERSION}` },
      salvage: o.salvageState,
      onSalvaged: ({ skippedLines, keptAt, unknown }) =>
        process.stderr.write(
          `flf2v: --salvage-state: passed over damaged line(s) ${skippedLines.join(', ')} of the state journal and kept every record that passes its checksum; the damaged journal is kept as ${keptAt}\n` +
            (unknown.length > 0
              ? `flf2v: --salvage-state: ${unknown.join(', ')}: a damaged line may have been the intent to submit, so ${unknown.length === 1 ? 'it is' : 'they are'} unknown — not sent again without --resubmit-unknown\n`
              : ''),
        ),
    });
    const job = store.state.header?.job;
    if (job && job !== o.plan.job.name) {
      throw new BatchError(
        'E_USAGE',
        `${o.outDir} holds the runs of job "${job}", not "${o.plan.job.name}": choose another --out`,
      );
    }
    const provider = providerIdentity(o.baseUrl, o.simulator === true);
    checkSameProvider(o.outDir, store.state, provider);
    const { plan, retakes } = sessionTakes(o.plan, store.state, o.retake);
    log = createRunLogger({ dir: o.outDir, verbose: o.verbose, secrets: [o.apiKey] });
    const logger = log.logger;
    const movedFrom = store.state.provider?.baseUrl;
    if (provider.kind === 'provider' && movedFrom !== undefined && movedFrom !== provider.baseUrl) {
      logger.warn(
        { before: movedFrom, now: provider.baseUrl },
        'the provider base URL changed since the last session',
      );
    }
    const startedAt = new Date().toISOString();
    const session = store.state.sessions + 1;
    store.append({
      t: 'session',
      n: session,
      at: startedAt,
      tool: TOOL_VERSION,
      manifestHash: o.plan.manifest.hash,
      manifest: o.manifestArg,
      pid: process.pid,
      host: hostname(),
      limits: { ...o.limits },
      provider,
    });
    logger.info(
      { outDir: o.outDir, manifest: o.manifestArg, tasks: plan.tasks.length, limits: o.limits, retakes },
      'run started',
    );

    const limiter = new RateLimiter({ rpm: { submit: o.limits.submitRpm, query: o.limits.queryRpm } });
    const stats = new SessionStats();
    client = createClient({
      apiKey: o.apiKey,
      baseUrl: o.baseUrl,
      gate: limiter,
      onAttempt: stats.onAttempt,
      logger,
    });
    const uploadCache = o.noUploadCache
      ? undefined
      : await openUploadCache({ dir: o.cacheDir, baseUrl: o.baseUrl });
    const clock = new RunClock({ spans: store.state.sessionSpans, session });
    const pipeline = new Pipeline({
      clock,
      plan,
      outDir: o.outDir,
      store,
      client,
      logger,
      maxInFlight: o.limits.maxInFlight,
      maxVideos: o.maxVideos,
      resubmitUnknown: o.resubmitUnknown,
      retryFailed: o.retryFailed,
      taskTimeoutMs: o.taskTimeoutMs,
      uploadCache,
    });
    const onStop = () => pipeline.stop();
    const onAbort = () => pipeline.abort();
    if (o.signal?.aborted) pipeline.stop();
    o.signal?.addEventListener('abort', onStop, { once: true });
    o.abortHard?.addEventListener('abort', onAbort, { once: true });

    // While running, the journal holds earlier sessions' counters and this one's are live; once this
    // session's stats record is appended, the journal holds them all.
    let statsJournaled = false;
    // The film `flf2v film` made, read for every report (it can be made while this session runs).
    const summarize = async (runState: RunSummary['run']['state'], finishedAt?: string) =>
      buildSummary({
        outDir: o.outDir,
        state: store!.state,
        runState,
        stats: statsJournaled ? store!.state.stats : stats.total(store!.state.stats),
        startedAt: store!.state.firstSessionAt,
        finishedAt,
        view: pipeline.live,
        film: await readFilmRecord(o.outDir),
      });
    // Refresh the reports while running. The interval stretches with the render time (10,000 tasks take a few
    // hundred ms) so that reporting stays a small share of the run's CPU.
    let refreshing: Promise<unknown> = Promise.resolve();
    let refreshTimer: NodeJS.Timeout | undefined;
    let stopped = false;
    const scheduleRefresh = (lastMs: number) => {
      if (stopped) return;
      refreshTimer = setTimeout(
        () => {
          const started = Date.now();
          refreshing = summarize('running')
            .then((summary) => writeReports(o.outDir, summary))
            .catch((error) => logger.warn({ err: String(error) }, 'report refresh failed'))
            .finally(() => scheduleRefresh(Date.now() - started));
        },
        Math.max(o.reportEveryMs ?? 5000, lastMs * 50),
      );
      refreshTimer.unref();
    };
    scheduleRefresh(0);
    // Heartbeats bound this session's span if it is killed; a sleep of the machine is journaled (it is not
    // session time) and wakes the pipeline, as a resume would.
    let lastBeat = clock.now();
    const heartbeat = setInterval(() => {
      const sleptMs = clock.checkSuspend();
      if (sleptMs === 0 && clock.now() - lastBeat < HEARTBEAT_MS) return;
      lastBeat = clock.now();
      try {
        store!.append({
          t: 'heartbeat',
          at: new Date().toISOString(),
          stats: { ...stats.counts },
          ...(sleptMs > 0 ? { suspendedMs: Math.round(sleptMs) } : {}),
        });
      } catch {
        // the journal failed: the pipeline stops on its own next append
      }
      if (sleptMs > 0) {
        logger.info({ sleptMs: Math.round(sleptMs) }, 'the machine slept; polling running tasks now');
        pipeline.wake();
      }
    }, HEARTBEAT_CHECK_MS);
    heartbeat.unref();
    const progress = o.progress ? new Progress(pipeline.live, store.state, o.progress) : undefined;
    progress?.start();

    let outcome: RunOutcome;
    try {
      outcome = await pipeline.run();
    } finally {
      stopped = true;
      clearTimeout(refreshTimer);
      clearInterval(heartbeat);
      progress?.stop();
      o.signal?.removeEventListener('abort', onStop);
      o.abortHard?.removeEventListener('abort', onAbort);
      limiter.close(new Flf2vError('E_ABORTED', 'the run is over', { retryable: false }));
    }
    const finishedAt = new Date().toISOString();
    // The journal or the disk may have failed under the run (a full disk): the end is recorded and reported as
    // far as it can be, and the first failure is what the run ends with.
    try {
      store.append({
        t: 'stats',
        session,
        at: finishedAt,
        stats: stats.counts,
        state: outcome.interrupted || outcome.fatal ? 'interrupted' : 'finished',
        ...(outcome.fatal
          ? {
              stoppedBy: {
                code: outcome.fatal.code,
                message: outcome.fatal.message,
                retryable: outcome.fatal.retryable,
              },
            }
          : {}),
      });
      await store.flush();
      statsJournaled = true;
    } catch (error) {
      outcome = { ...outcome, fatal: outcome.fatal ?? internalError(error) };
    }
    await refreshing;
    const summary = await summarize(
      outcome.interrupted || outcome.fatal ? 'interrupted' : 'finished',
      finishedAt,
    );
    try {
      await writeReports(o.outDir, summary);
    } catch (error) {
      const failure = localIoFailure(`cannot write the reports in ${o.outDir}`, error) ?? error;
      logger.error({ err: String(error) }, 'cannot write the reports');
      outcome = { ...outcome, fatal: outcome.fatal ?? internalError(failure) };
    }

    const totals = planTotals(summary, new Set(plan.tasks.map((t) => t.key)));
    const exitCode = exitCodeOf(outcome, totals);
    logger.info({ totals: summary.totals, exitCode, interrupted: outcome.interrupted }, 'run ended');
    return { exitCode, outcome, summary, planTotals: totals, retakes, logFile: log.file };
  } finally {
    await client?.close().catch(() => {});
    await store?.close().catch(() => {});
    await log?.close().catch(() => {});
    await lock.release();
  }
}

/** A killed session's span is known to within this (see `SessionSpan`). */
const HEARTBEAT_MS = 60_000;
/** How often the session looks for a sleep of the machine. */
const HEARTBEAT_CHECK_MS = 5_000;

/**
 * A run's exit code (README, "Exit codes"): a fatal error's own, else 130 when interrupted, else 0 when every task
 * of the plan succeeded and 1 when not.
 */
export function exitCodeOf(outcome: RunOutcome, totals: PlanTotals): ExitCode {
  if (outcome.fatal) return exitCodeFor(outcome.fatal.code);
  if (outcome.interrupted) return EXIT.INTERRUPTED;
  return totals.succeeded === totals.tasks ? EXIT.OK : EXIT.TASKS_FAILED;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

export function providerIdentity(baseUrl: string, embedded: boolean): ProviderIdentity {
  if (embedded) return { kind: 'simulator' };
  let host = '';
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    // An unparsable URL is refused by the client; here it is just "not loopback".
  }
  return { kind: LOOPBACK.test(host) ? 'simulator' : 'provider', baseUrl };
}

/**
 * A run directory keeps the work of one kind of provider. A rehearsal against a simulator resumed against the
 * real provider would take the simulator's videos for paid ones and poll task ids the provider never issued;
 * the reverse would poll paid tasks at a simulator and fail them. Refused before anything is sent, once the
 * directory holds anything sent. Same kind, new address (the provider moved): continued, with a log line.
 */
function checkSameProvider(outDir: string, state: RunState, now: ProviderIdentity): void {
  const before = state.provider;
  if (!before || before.kind === now.kind) return;
  let sent = 0;
  for (const task of state.tasks.values()) if (task.lastN > 0) sent++;
  if (sent === 0 && state.uploads.size === 0) return;
  const where = (p: ProviderIdentity) =>
    p.kind === 'simulator'
      ? `a simulator${p.baseUrl ? ` (${p.baseUrl})` : ''}`
      : `the provider at ${p.baseUrl}`;
  throw new BatchError(
    'E_OTHER_PROVIDER',
    `${outDir} holds work sent to ${where(before)} (${sent} task(s) submitted there); this run goes to ${where(now)}. ` +
      `${before.kind === 'simulator' ? "A rehearsal's tasks and videos are not real ones" : "The provider's tasks cannot be polled at a simulator"}: ` +
      'nothing was sent. Choose another --out (or delete the rehearsal directory to start over).',
  );
}
