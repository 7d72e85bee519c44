import type { Client } from '@flf2v/core';
import type PQueue from 'p-queue';
import type { FrameRef, PlannedTask } from '../../manifest/types.js';
import type { JournalRecord } from '../../state/records.js';
import type { TaskState } from '../../state/run-state.js';
import type { StateStore } from '../../state/store.js';
import type { RunClock } from '../clock.js';
import type { LiveView } from '../live-view.js';
import type { TaskRetries } from '../policy.js';
import type { PollPlanner } from '../poll-planner.js';
import type { UploadCache } from '../upload-cache.js';

/** Where a pipeline logs (pino's shape). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The call queues, one per kind of provider call; each holds at most its concurrency (`DEFAULT_CONCURRENCY`). */
export type CallQueue = 'upload' | 'submit' | 'query' | 'download';

/** Calls per queue at once. The rate limiter paces them further; these only bound sockets and memory. */
export const DEFAULT_CONCURRENCY: Readonly<Record<CallQueue, number>> = Object.freeze({
  upload: 4,
  submit: 16,
  query: 32,
  download: 8,
});

/**
 * One task's passage through the pipeline in this session: the journaled task (`task`, updated as records are
 * applied) plus what only this session knows. Stages read and set these fields; the driver creates one per task.
 */
export interface TaskRun {
  readonly task: TaskState;
  /** The manifest row, or undefined when the manifest no longer lists the task (it is only finished, if paid). */
  readonly plan: PlannedTask | undefined;
  /** Frame URLs to submit with, once uploaded (or reused from an earlier upload). */
  frameUrls?: [string, string];
  /** Reused frame URLs were refused once already: the fresh upload is final. */
  framesRechecked: boolean;
  /** When the provider accepted the task in this session (session clock); undefined for a resumed task. */
  submittedAtMono?: number;
  /** Holds an in-flight slot (see `InFlight`). */
  holdsSlot: boolean;
  /** The provider said COMPLETED: the result query comes next. */
  providerDone: boolean;
  /** Result URLs fetched in this session; URLs recorded by an earlier session may have expired. */
  urlsFresh: boolean;
  /** Fresh result URLs asked for this session (`TASK_POLICY.urlRefreshes`). */
  urlRefreshes: number;
  /** Reopened by --retry-failed: a provider FAILED on the re-poll means send again. */
  retrying: boolean;
}

/** The frame URLs to submit with (`frames.ts`). */
export interface FrameSource {
  /**
   * A URL as given, or an uploaded file's.
   * @throws Flf2vError `E_ABORTED` when the run stops first; the upload's error when it fails the task
   */
  urlOf(frame: FrameRef, run: TaskRun, ctx: StageContext): Promise<string>;
  /** Content hashes of `plan`'s file frames whose URL comes from an earlier session. */
  reused(plan: PlannedTask): string[];
  /** The provider refused URLs reused from an earlier session: upload those frames again. */
  distrust(shas: readonly string[]): void;
}

/** In-flight slots and the cap on tasks running at the provider (`in-flight.ts`). */
export interface InFlightSlots {
  /** Wait for a slot (sets `run.holdsSlot`); false when `signal` aborts first. */
  acquire(run: TaskRun, signal: AbortSignal): Promise<boolean>;
  /** A resumed task already at the provider holds a slot, even past the cap. */
  force(run: TaskRun): void;
  /** Give the task's slot back, if it holds one. */
  release(run: TaskRun): void;
  /** Tasks waiting for a slot. */
  readonly waiting: number;
  /** More slots are taken than the (learned) cap allows. */
  readonly overCap: boolean;
  /** A task started (+1) or stopped (-1) being known to run at the provider. */
  running(delta: 1 | -1): void;
  /** The provider refused a submit because too many tasks run. */
  learnCap(): void;
}

/** Everything a stage may use. Stages share nothing else: no stage knows another. */
export interface StageContext {
  readonly store: StateStore;
  readonly client: Client;
  readonly logger: Logger;
  readonly clock: RunClock;
  readonly live: LiveView;
  readonly planner: PollPlanner;
  readonly inFlight: InFlightSlots;
  readonly frames: FrameSource;
  readonly queues: Readonly<Record<CallQueue, PQueue>>;
  /** Where videos go, relative paths resolved against it. */
  readonly outDir: string;
  /** Who first used each task id in this directory (`video-paths.ts`). */
  readonly idOwners: ReadonlyMap<string, string>;
  /** A task running longer than this (session time) is parked as stalled. */
  readonly taskTimeoutMs: number;
  readonly uploadCache: UploadCache | undefined;
  /** Aborted by a stop request: nothing new starts. */
  readonly stopSignal: AbortSignal;
  /** Aborts calls in flight (after the grace period of a stop, or at once on a second one). */
  readonly abortSignal: AbortSignal;
  /** True once a stop was asked for: no new work. */
  stopping(): boolean;
  /** Journal a record; a journal that cannot be written stops the run (and this throws). */
  append(record: JournalRecord): void;
  /** Wait `ms`; false when a stop came first. */
  pause(ms: number): Promise<boolean>;
  /** Like `pause`, but a wake-up (the machine slept) ends it early. */
  pollPause(ms: number): Promise<boolean>;
  /** Wait for `promise`, or a stop; false when stopped. */
  until(promise: Promise<unknown>): Promise<boolean>;
  /** The task policy for one task's calls at one stage (`providerHasTask`: see `TaskRetries`). */
  retries(providerHasTask: boolean): TaskRetries;
  /** Spend `videos` of the --max-videos budget; false when it would be exceeded. */
  reserveVideos(videos: number): boolean;
  /** Give back what `reserveVideos` took (nothing was created). */
  refundVideos(videos: number): void;
}

/** What a stage did with a task: moved it on (another stage may take it), left it for later, or stopped. */
export type StageResult = 'next' | 'wait' | 'stopped';

/**
 * A pipeline stage: one entry, no knowledge of the others. The driver offers each task to the first stage that
 * `accepts` it, until none does or one says `wait`/`stopped`. Adding a stage is adding a file and a line in
 * `STAGES` (`driver.ts`).
 */
export interface Stage {
  readonly name: 'upload' | 'submit' | 'poll' | 'result' | 'download';
  accepts(run: TaskRun): boolean;
  run(run: TaskRun, ctx: StageContext): Promise<StageResult>;
}
