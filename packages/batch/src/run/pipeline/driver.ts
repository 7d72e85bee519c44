import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@flf2v/core';
import { Flf2vError } from '@flf2v/core/rules';
import PQueue from 'p-queue';
import { BatchError, type ErrorCode, internalError } from '../../errors.js';
import type { FrameRef, Plan, PlannedTask } from '../../manifest/types.js';
import type { FrameRecord, JournalRecord } from '../../state/records.js';
import { submissionsOf, type TaskState } from '../../state/run-state.js';
import type { StateStore } from '../../state/store.js';
import { localIoError } from '../../util/local-io.js';
import type { RunClock } from '../clock.js';
import { LiveView } from '../live-view.js';
import { TASK_POLICY, TaskRetries, verdictOf } from '../policy.js';
import { PollPlanner } from '../poll-planner.js';
import { DEFAULT_UPLOAD_MAX_AGE_MS, type UploadCache } from '../upload-cache.js';
import { idOwners } from '../video-paths.js';
import { errorRecord } from './call.js';
import {
  type CallQueue,
  DEFAULT_CONCURRENCY,
  type Logger,
  type Stage,
  type StageContext,
  type TaskRun,
} from './context.js';
import { downloadStage } from './download.js';
import { FrameUrls, uploadStage } from './frames.js';
import { InFlight } from './in-flight.js';
import { pollStage } from './poll.js';
import { resultStage } from './result.js';
import { submitStage } from './submit.js';

/** The stages, in the order a task meets them; each task goes to the first that accepts it. */
const STAGES: readonly Stage[] = [uploadStage, submitStage, pollStage, resultStage, downloadStage];

/** After a stop request, how long calls in flight may take before they are aborted. */
export const STOP_GRACE_MS = 10_000;

export interface PipelineOptions {
  plan: Plan;
  outDir: string;
  store: StateStore;
  client: Client;
  logger: Logger;
  /** Session time (see `clock.ts`). */
  clock: RunClock;
  /** Tasks running at the provider at once. @default learned from the provider's refusals */
  maxInFlight?: number;
  /** Hard cap on videos requested in this run directory, unknown submissions counted as spent. */
  maxVideos?: number;
  /** Re-send tasks whose earlier submission may or may not have reached the provider. @default false */
  resubmitUnknown?: boolean;
  /** Re-run failed tasks (polling those with a taskId first). @default false */
  retryFailed?: boolean;
  /** A task running longer than this (session time) is parked as stalled. @default 30 minutes */
  taskTimeoutMs?: number;
  uploadCache?: UploadCache;
  /** Reuse uploaded frame URLs younger than this. @default 12 hours */
  uploadMaxAgeMs?: number;
  /** The jitter of the task policy's backoff, [0, 1); tests pass `() => 0` (no waiting). @default Math.random */
  random?: () => number;
}

export interface RunOutcome {
  interrupted: boolean;
  /** A problem that stopped the whole run (bad key, unwritable journal, full disk…). */
  fatal?: Flf2vError<ErrorCode>;
}

/**
 * The run pipeline's driver: journals every planned task, decides what each needs this session, and moves it from
 * stage to stage (upload → submit → poll → result → download) until no stage accepts it or one leaves it for a
 * later session. Stages share only the `StageContext`; what they do to a task is journaled (see `state/`), and
 * what they are doing right now is in `live` — the one view progress and reports read.
 *
 * A stop request (first SIGINT) lets calls already on the wire settle — aborting a submit would turn a known
 * outcome into an unknown one — and aborts everything else after `STOP_GRACE_MS`; `abort` (second SIGINT) aborts
 * at once. A fatal error (key, configuration, journal, local disk) stops the run with every task kept as it is.
 */
export class Pipeline {
  readonly live = new LiveView();
  private readonly stopController = new AbortController();
  private readonly abortController = new AbortController();
  private wakeController = new AbortController();
  private readonly owners = new Map<string, string>();
  private readonly ctx: StageContext;
  private fatal?: Flf2vError<ErrorCode>;
  private videosSpent = 0;

  constructor(private readonly o: PipelineOptions) {
    // Every pending call and pause listens on these: thousands of listeners are expected, not a leak.
    setMaxListeners(0, this.stopController.signal, this.abortController.signal, this.wakeController.signal);
    const queue = (q: CallQueue) => new PQueue({ concurrency: DEFAULT_CONCURRENCY[q] });
    this.ctx = {
      store: o.store,
      client: o.client,
      logger: o.logger,
      clock: o.clock,
      live: this.live,
      planner: new PollPlanner(),
      inFlight: new InFlight(o.maxInFlight, () => o.clock.now(), o.logger),
      frames: new FrameUrls(o.store.state, o.uploadMaxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS),
      queues: {
        upload: queue('upload'),
        submit: queue('submit'),
        query: queue('query'),
        download: queue('download'),
      },
      outDir: o.outDir,
      idOwners: this.owners,
      maxVideos: o.maxVideos,
      taskTimeoutMs: o.taskTimeoutMs ?? 30 * 60_000,
      uploadCache: o.uploadCache,
      stopSignal: this.stopController.signal,
      abortSignal: this.abortController.signal,
      stopping: () => this.stopping,
      append: (record) => this.append(record),
      pause: (ms) => this.pause(ms, this.stopController.signal),
      pollPause: async (ms) => {
        await this.pause(ms, AbortSignal.any([this.stopController.signal, this.wakeController.signal]));
        return !this.stopping;
      },
      until: (promise) => this.until(promise),
      retries: (providerHasTask) => new TaskRetries(providerHasTask, o.random),
      reserveVideos: (videos) => {
        if (o.maxVideos !== undefined && this.videosSpent + videos > o.maxVideos) return false;
        this.videosSpent += videos;
        return true;
      },
      refundVideos: (videos) => {
        this.videosSpent -= videos;
      },
    };
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
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

  /** Journal every planned task, decide what each needs this session, and run until nothing is left to do. */
  async run(): Promise<RunOutcome> {
    const state = this.o.store.state;
    const now = new Date().toISOString();
    const planned = new Map(this.o.plan.tasks.map((t) => [t.key, t]));
    for (const task of this.o.plan.tasks) {
      if (state.tasks.has(task.key)) continue;
      this.append({
        t: 'planned',
        key: task.key,
        id: task.id,
        at: now,
        params: { ...task.params },
        image: frameRecord(task.image),
        last_image: frameRecord(task.last_image),
      });
    }
    for (const key of state.tasks.keys()) if (!planned.has(key)) this.live.removed.add(key);
    for (const [id, key] of idOwners(state.tasks.values())) this.owners.set(id, key);
    for (const t of state.tasks.values()) this.videosSpent += submissionsOf(t) * t.params.number_of_videos;
    const videos = join(this.o.outDir, 'videos');
    try {
      await mkdir(videos, { recursive: true });
    } catch (error) {
      this.failRun(localIoError(`cannot create ${videos}`, error));
      return { interrupted: false, fatal: this.fatal };
    }
    const runs: TaskRun[] = [];
    for (const task of state.tasks.values()) {
      const run = this.prepare(task, planned.get(task.key));
      if (run) runs.push(run);
    }
    await Promise.all(runs.map((run) => this.drive(run)));
    await Promise.all(Object.values(this.ctx.queues).map((q) => q.onIdle()));
    await this.o.uploadCache?.flush();
    return { interrupted: this.stopping && !this.fatal, fatal: this.fatal };
  }

  /** What a task needs this session: its run, or undefined when there is nothing to do. */
  private prepare(task: TaskState, plan: PlannedTask | undefined): TaskRun | undefined {
    const at = new Date().toISOString();
    const removed = plan === undefined;
    // A durable intent with no recorded outcome: the previous runner died mid-submit.
    for (const n of task.pending) {
      this.append({
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
    if (task.phase === 'failed' && this.o.retryFailed && !removed) {
      this.append({ t: 'reopened', key: task.key, at, reason: 'retry-failed' });
      run.retrying = true;
    }
    if (task.phase === 'unknown' && this.o.resubmitUnknown && !removed) {
      this.append({ t: 'reopened', key: task.key, at, reason: 'resubmit-unknown' });
    }
    switch (task.phase) {
      case 'planned':
        return removed ? undefined : run;
      case 'submitted':
        // Already running at the provider: it holds an in-flight slot (even past the cap) until it finishes.
        this.ctx.inFlight.force(run);
        return run;
      case 'completed':
        // Paid for already: finished even when the row was removed from the manifest.
        return run;
      default:
        return undefined;
    }
  }

  /** Offer the task to the stages until none takes it, one leaves it for later, or the run stops. */
  private async drive(run: TaskRun): Promise<void> {
    try {
      for (let visits = 0; visits < TASK_POLICY.stageVisits && !this.stopping; visits++) {
        const stage = STAGES.find((s) => s.accepts(run));
        if (!stage || (await stage.run(run, this.ctx)) !== 'next') return;
      }
    } catch (thrown) {
      const error = internalError(thrown);
      if (this.stopping || error.code === 'E_ABORTED') return;
      if (verdictOf(error.code) === 'fatal') {
        this.failRun(error);
        return;
      }
      this.o.logger.error(
        { key: run.task.key, id: run.task.id, err: errorRecord(error) },
        'unexpected error',
      );
      this.append({
        t: 'failed',
        key: run.task.key,
        at: new Date().toISOString(),
        stage: 'internal',
        error: errorRecord(error),
        attempts: this.live.attemptsOf(run.task),
      });
    } finally {
      this.ctx.inFlight.release(run);
      this.live.settle(run.task.key);
    }
  }

  private append(record: JournalRecord): void {
    try {
      this.o.store.append(record);
    } catch (error) {
      this.failRun(error);
      throw error;
    }
  }

  private failRun(error: unknown): void {
    if (this.fatal) return;
    this.fatal =
      error instanceof Flf2vError
        ? (error as Flf2vError<ErrorCode>)
        : new BatchError('E_STATE', String(error), { cause: error });
    this.o.logger.error({ err: this.fatal.toJSON() }, 'stopping the run');
    this.stop();
  }

  private async pause(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      // stopped, or woken
    }
    return !this.stopping;
  }

  private until(promise: Promise<unknown>): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onStop = () => resolve(false);
      this.stopController.signal.addEventListener('abort', onStop, { once: true });
      promise.then(() => {
        this.stopController.signal.removeEventListener('abort', onStop);
        resolve(true);
      });
    });
  }
}

function frameRecord(frame: FrameRef): FrameRecord {
  return frame.kind === 'file'
    ? { display: frame.display, path: frame.path, sha256: frame.sha256 }
    : { display: frame.url, url: frame.url };
}
