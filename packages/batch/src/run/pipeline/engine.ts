import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@flf2v/core';
import { Flf2vError } from '@flf2v/core/rules';
import PQueue from 'p-queue';
import { BatchError, type ErrorCode, internalError } from '../../errors.js';
import type { PlannedTask } from '../../manifest/types.js';
import type { JournalRecord } from '../../state/records.js';
import type { TaskState } from '../../state/run-state.js';
import type { StateStore } from '../../state/store.js';
import type { RunClock } from '../clock.js';
import { LiveView } from '../live-view.js';
import { TASK_POLICY, TaskRetries, verdictOf } from '../policy.js';
import { PollPlanner } from '../poll-planner.js';
import type { UploadCache } from '../upload-cache.js';
import { errorRecord } from './call.js';
import {
  type CallQueue,
  DEFAULT_CONCURRENCY,
  type FrameSource,
  type InFlightSlots,
  type Logger,
  type Stage,
  type StageContext,
  type TaskRun,
} from './context.js';
import { downloadStage } from './download.js';
import { uploadStage } from './frames.js';
import { pollStage } from './poll.js';
import { resultStage } from './result.js';
import { submitStage } from './submit.js';

/** The stages, in the order a task meets them; each task goes to the first that accepts it. */
const STAGES: readonly Stage[] = [uploadStage, submitStage, pollStage, resultStage, downloadStage];

/** After a stop request, how long calls in flight may take before they are aborted. */
export const STOP_GRACE_MS = 10_000;

export interface EngineOptions {
  client: Client;
  logger: Logger;
  /** Session time (see `clock.ts`). */
  clock: RunClock;
  /** The jitter of the task policy's backoff, [0, 1); tests pass `() => 0` (no waiting). @default Math.random */
  random?: () => number;
}

/** What the tasks of one run share: its state, where its videos go, its in-flight slots and frame URLs. */
export interface RunScope {
  store: StateStore;
  outDir: string;
  /** Who first used each task id in the run (`video-paths.ts`). */
  idOwners: ReadonlyMap<string, string>;
  /** A task running longer than this (session time) is parked as stalled. */
  taskTimeoutMs: number;
  inFlight: InFlightSlots;
  frames: FrameSource;
  uploadCache?: UploadCache;
  /** The --max-videos budget, if any. */
  budget?: { reserve(videos: number): boolean; refund(videos: number): void };
  /** Re-send tasks whose earlier submission may or may not have reached the provider. */
  resubmitUnknown?: boolean;
  /** Re-run failed tasks (polling those with a taskId first). */
  retryFailed?: boolean;
  /**
   * Aborted when this process no longer holds the run's task (a worker whose job was taken over by another): the
   * task is left at once and its calls on the wire are aborted — the task is another worker's now, and a submit
   * cut this way is one the new owner already counts as unknown (its intent was open when it took over).
   */
  lost?: AbortSignal;
}

/**
 * What one process's pipeline shares across every task it drives — one run's (`Pipeline`) or, on a worker, the
 * tasks of many runs: the call queues, the poll planner, the live view, and stopping. It prepares a task for this
 * session and moves it from stage to stage (upload → submit → poll → result → download) until no stage accepts it
 * or one leaves it for a later session.
 *
 * A stop request (first SIGINT) lets calls already on the wire settle — aborting a submit would turn a known
 * outcome into an unknown one — and aborts everything else after `STOP_GRACE_MS`; `abort` (second SIGINT) aborts
 * at once. A fatal error (key, configuration, journal, local disk) stops everything with every task kept as it is.
 */
export class Engine {
  readonly live = new LiveView();
  readonly planner = new PollPlanner();
  private readonly queues: Readonly<Record<CallQueue, PQueue>>;
  private readonly stopController = new AbortController();
  private readonly abortController = new AbortController();
  private wakeController = new AbortController();
  private failure?: Flf2vError<ErrorCode>;

  constructor(private readonly o: EngineOptions) {
    // Every pending call and pause listens on these: thousands of listeners are expected, not a leak.
    setMaxListeners(0, this.stopController.signal, this.abortController.signal, this.wakeController.signal);
    const queue = (q: CallQueue) => new PQueue({ concurrency: DEFAULT_CONCURRENCY[q] });
    this.queues = {
      upload: queue('upload'),
      submit: queue('submit'),
      query: queue('query'),
      download: queue('download'),
    };
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** The error that stopped everything, if one did. */
  get fatal(): Flf2vError<ErrorCode> | undefined {
    return this.failure;
  }

  /** Aborted by a stop request. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  /** First stop request: no new work; calls on the wire get `STOP_GRACE_MS` to settle, then are aborted. */
  stop(): void {
    if (this.stopping) return;
    this.stopController.abort();
    setTimeout(() => this.abortController.abort(), STOP_GRACE_MS).unref();
  }

  /** Abort everything now (second SIGINT). */
  abort(): void {
    this.stopController.abort();
    this.abortController.abort();
  }

  /**
   * The machine slept (see `RunClock.checkSuspend`): tasks at the provider probably finished meanwhile, so every
   * poll waiting for its planned time is made now, as on a resume.
   */
  wake(): void {
    const woken = this.wakeController;
    this.wakeController = new AbortController();
    setMaxListeners(0, this.wakeController.signal);
    woken.abort();
  }

  /** Stop everything with `error` (the first one wins): the run cannot go on without a person. */
  failRun(error: unknown): void {
    if (this.failure) return;
    this.failure =
      error instanceof Flf2vError
        ? (error as Flf2vError<ErrorCode>)
        : new BatchError('E_STATE', String(error), { cause: error });
    this.o.logger.error({ err: this.failure.toJSON() }, 'stopping the run');
    this.stop();
  }

  /** Wait until every queued call has settled. */
  async idle(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.onIdle()));
  }

  /** The stage context for tasks of one run. */
  contextFor(scope: RunScope): StageContext {
    // Every waiting call of the run listens on these two; hundreds at once are normal, not a leak.
    const stop = scope.lost
      ? AbortSignal.any([this.stopController.signal, scope.lost])
      : this.stopController.signal;
    const abortSignal = scope.lost
      ? AbortSignal.any([this.abortController.signal, scope.lost])
      : this.abortController.signal;
    setMaxListeners(0, stop, abortSignal);
    const stopping = () => stop.aborted;
    // One combined signal per wake, not one per poll pause: thousands of AbortSignal.any() a minute cost CPU.
    let wokenBy: AbortSignal | undefined;
    let pollSignal = stop;
    const pollSignalNow = () => {
      const wake = this.wakeController.signal;
      if (wokenBy !== wake) {
        wokenBy = wake;
        pollSignal = AbortSignal.any([stop, wake]);
        setMaxListeners(0, pollSignal);
      }
      return pollSignal;
    };
    const append = (record: JournalRecord) => {
      try {
        scope.store.append(record);
      } catch (error) {
        // A journal that cannot be written stops everything; a task another worker has taken stops only itself.
        if (verdictOf(internalError(error).code) !== 'stopped') this.failRun(error);
        throw error;
      }
    };
    return {
      store: scope.store,
      client: this.o.client,
      logger: this.o.logger,
      clock: this.o.clock,
      live: this.live,
      planner: this.planner,
      inFlight: scope.inFlight,
      frames: scope.frames,
      queues: this.queues,
      outDir: scope.outDir,
      idOwners: scope.idOwners,
      taskTimeoutMs: scope.taskTimeoutMs,
      uploadCache: scope.uploadCache,
      stopSignal: stop,
      abortSignal,
      stopping,
      append,
      pause: (ms) => this.pause(ms, stop),
      pollPause: (ms) => this.pause(ms, pollSignalNow(), stop),
      until: (promise) => this.until(promise, stop),
      retries: (providerHasTask) => new TaskRetries(providerHasTask, this.o.random),
      reserveVideos: (videos) => scope.budget?.reserve(videos) ?? true,
      refundVideos: (videos) => scope.budget?.refund(videos),
    };
  }

  /**
   * What a task needs this session: its run, or undefined when there is nothing to do. Journals what the earlier
   * session left open: an intent with no outcome (it died mid-submit) becomes `unknown`; --retry-failed and
   * --resubmit-unknown reopen.
   */
  prepare(
    task: TaskState,
    plan: PlannedTask | undefined,
    scope: RunScope,
    ctx: StageContext,
  ): TaskRun | undefined {
    const at = new Date().toISOString();
    const removed = plan === undefined;
    for (const n of task.pending) {
      ctx.append({
        t: 'unknown',
        key: task.key,
        n,
        at,
        error: errorRecord(
          new BatchError(
            'E_SUBMIT_UNKNOWN',
            'the run stopped while this task was being submitted; the provider may or may not have it',
          ),
        ),
      });
    }
    const run: TaskRun = {
      task,
      plan,
      framesRechecked: false,
      holdsSlot: false,
      providerDone: false,
      urlsFresh: false,
      urlRefreshes: 0,
      retrying: false,
    };
    if (task.phase === 'failed' && scope.retryFailed && !removed) {
      ctx.append({ t: 'reopened', key: task.key, at, reason: 'retry-failed' });
      run.retrying = true;
    }
    if (task.phase === 'unknown' && scope.resubmitUnknown && !removed) {
      ctx.append({ t: 'reopened', key: task.key, at, reason: 'resubmit-unknown' });
    }
    switch (task.phase) {
      case 'planned':
        return removed ? undefined : run;
      case 'submitted':
        // Already running at the provider: it holds an in-flight slot (even past the cap) until it finishes.
        ctx.inFlight.force(run);
        return run;
      case 'completed':
        // Paid for already: finished even when the row was removed from the manifest.
        return run;
      default:
        return undefined;
    }
  }

  /** Offer the task to the stages until none takes it, one leaves it for later, or the run stops. */
  async drive(run: TaskRun, ctx: StageContext): Promise<void> {
    try {
      for (let visits = 0; visits < TASK_POLICY.stageVisits && !ctx.stopping(); visits++) {
        const stage = STAGES.find((s) => s.accepts(run));
        if (!stage || (await stage.run(run, ctx)) !== 'next') return;
      }
    } catch (thrown) {
      const error = internalError(thrown);
      if (ctx.stopping() || verdictOf(error.code) === 'stopped') return;
      if (verdictOf(error.code) === 'fatal') {
        this.failRun(error);
        return;
      }
      this.o.logger.error(
        { key: run.task.key, id: run.task.id, err: errorRecord(error) },
        'unexpected error',
      );
      ctx.append({
        t: 'failed',
        key: run.task.key,
        at: new Date().toISOString(),
        stage: 'internal',
        error: errorRecord(error),
        attempts: this.live.attemptsOf(run.task),
      });
    } finally {
      ctx.inFlight.release(run);
      this.live.settle(run.task.key);
    }
  }

  /** Wait `ms`, or until `signal`; false when `stop` (the task's stop) came first. */
  private async pause(ms: number, signal: AbortSignal, stop: AbortSignal = signal): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      // stopped, or woken
    }
    return !stop.aborted;
  }

  private until(promise: Promise<unknown>, stop: AbortSignal): Promise<boolean> {
    if (stop.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onStop = () => resolve(false);
      stop.addEventListener('abort', onStop, { once: true });
      promise.then(() => {
        stop.removeEventListener('abort', onStop);
        resolve(true);
      });
    });
  }
}
