import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type Client, Flf2vError, type GenerationRequest, TASK_TYPE } from '@flf2v/core';
import PQueue from 'p-queue';
import type { FrameRef, Plan, PlannedTask } from '../manifest/types.js';
import type { ErrorRecord, FrameRecord, JournalRecord } from '../state/records.js';
import { submissionsOf, type TaskState } from '../state/run-state.js';
import type { StateStore } from '../state/store.js';
import { localIoError } from '../util/local-io.js';
import { RunClock } from './clock.js';
import { PollPlanner } from './poll-planner.js';
import { Semaphore } from './semaphore.js';
import type { UploadCache } from './upload-cache.js';
import { idOwners, videoPath } from './video-paths.js';

/**
 * The run pipeline: upload → submit → poll → result → download, one driver per task, each stage behind its own
 * p-queue, every provider call through the client (and so through the shared rate limiter).
 *
 * Exactly-once discipline (DESIGN.md): the submit intent is durable before the POST leaves; the taskId is
 * journaled the moment it arrives; a task with a taskId is only ever polled; an intent without an answer is
 * `unknown` and is re-sent only when the user asks (`resubmitUnknown`). A stop request (SIGINT) lets submits
 * that are already on the wire finish — aborting them would turn known outcomes into unknown ones — and
 * aborts everything else after `graceMs`.
 */

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RunnerOptions {
  plan: Plan;
  outDir: string;
  store: StateStore;
  client: Client;
  logger: Logger;
  /** Tasks running at the provider at once. @default unlimited */
  maxInFlight?: number;
  /** Hard cap on videos requested in this run directory, unknown submissions counted as spent. */
  maxVideos?: number;
  resubmitUnknown?: boolean;
  retryFailed?: boolean;
  /** @default 30 minutes */
  taskTimeoutMs?: number;
  uploadCache?: UploadCache;
  /** Reuse uploaded frame URLs younger than this. @default 12 hours */
  uploadMaxAgeMs?: number;
  planner?: PollPlanner;
  /** Session time (monotonic, sleeps and gaps between sessions excluded). @default a clock for this session */
  clock?: RunClock;
  /** Concurrent calls per stage. */
  concurrency?: Partial<Record<'upload' | 'submit' | 'query' | 'download', number>>;
  /** After a stop request, how long calls in flight may take before they are aborted. @default 10_000 */
  graceMs?: number;
  /** With no --max-in-flight, how often to try one more running task than the learned cap. @default 20_000 */
  capProbeMs?: number;
  /** Delays between a task's own retries after the client gave up on a transient error. @default 1000 / 60_000 */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** In-memory detail for progress and reports: what each task is doing right now. */
export type LiveStage =
  | 'uploading'
  | 'submitting'
  | 'queued'
  | 'running'
  | 'downloading'
  | 'budget'
  | 'stalled';

export interface RunOutcome {
  interrupted: boolean;
  /** A problem that stopped the whole run (bad key, unwritable journal…). */
  fatal?: Flf2vError;
}

const DEFAULT_CONCURRENCY = { upload: 4, submit: 16, query: 32, download: 8 };

function errorRecord(error: unknown): ErrorRecord {
  if (error instanceof Flf2vError)
    return { code: error.code, message: error.message, retryable: error.retryable };
  return {
    code: 'E_INTERNAL',
    message: error instanceof Error ? error.message : String(error),
    retryable: false,
  };
}

function frameRecord(frame: FrameRef): FrameRecord {
  return frame.kind === 'file'
    ? { display: frame.display, path: frame.path, sha256: frame.sha256 }
    : { display: frame.url, url: frame.url };
}

/**
 * Errors that stop the whole run rather than fail a task: the key, the configuration, the state journal, and the
 * local disk (a full disk fails every download alike; the tasks keep their results for the next run).
 */
const isFatal = (e: unknown) =>
  e instanceof Flf2vError &&
  (e.code === 'E_AUTH' || e.code === 'E_CONFIG' || e.code === 'E_STATE' || e.code === 'E_LOCAL_IO');

export class Runner {
  readonly live = new Map<string, LiveStage>();
  /** Provider-reported progress of running tasks. */
  readonly progress = new Map<string, number>();
  /** Keys of tasks in the state that the current manifest no longer lists. */
  readonly removed = new Set<string>();
  /** Tasks whose result URLs were fetched in this session (others' URLs may be stale). */
  private readonly freshUrls = new Set<string>();
  /**
   * Provider calls per task, all sessions: the journaled count at this session's start plus this session's
   * calls (journal records carry the running total, so the two are never added again).
   */
  readonly calls = new Map<string, number>();
  /** Tasks that wait for a later session: over the --max-videos budget, or stalled past the task timeout. */
  readonly parked = new Set<string>();
  /** Tasks reopened by --retry-failed this session: a provider FAILED on re-poll means send again. */
  private readonly retrying = new Set<string>();

  private readonly o: Required<
    Omit<RunnerOptions, 'maxInFlight' | 'maxVideos' | 'uploadCache' | 'planner' | 'concurrency' | 'clock'>
  > &
    RunnerOptions;
  private readonly queues: Record<'upload' | 'submit' | 'query' | 'download', PQueue>;
  private readonly planner: PollPlanner;
  private readonly clock: RunClock;
  /** When each task this session submitted was accepted, on the session clock. Others were resumed. */
  private readonly submittedAtMono = new Map<string, number>();
  /**
   * Resumed tasks found finished at their first poll: they finished while no session ran, so their completions
   * say nothing about this session's pace (the ETA leaves them out).
   */
  settledWhileAway = 0;
  /** Woken (a sleep of the machine was noticed): polls waiting for their time go now. */
  private wakeController = new AbortController();
  /**
   * Tasks running at the provider. Limited by --max-in-flight when given; otherwise unlimited until the
   * provider refuses a submit because too many tasks run (a `concurrency` 429): the cap is then learned as the
   * number running at that moment, and raised by one after every quiet `capProbeMs` to find freed capacity.
   */
  private readonly slots: Semaphore;
  private learnedCap = false;
  /** Tasks this session is polling: those known to be at the provider right now. */
  private atProvider = 0;
  private lastCapRefusalAt = Number.NEGATIVE_INFINITY;
  private lastCapRaiseAt = Number.NEGATIVE_INFINITY;
  private readonly uploads = new Map<string, Promise<string>>();
  /** Frames uploaded by this session (their URLs are certainly live). */
  private readonly freshUploads = new Set<string>();
  /** Frames whose reused URL the provider seems not to know any more: upload them again. */
  private readonly distrusted = new Set<string>();
  private readonly owners: Map<string, string>;
  private readonly stopController = new AbortController();
  private readonly abortController = new AbortController();
  private fatal?: Flf2vError;
  private videosSpent = 0;

  constructor(options: RunnerOptions) {
    this.o = {
      resubmitUnknown: false,
      retryFailed: false,
      taskTimeoutMs: 30 * 60_000,
      uploadMaxAgeMs: 12 * 3_600_000,
      graceMs: 10_000,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
      capProbeMs: 20_000,
      ...options,
    };
    const c = { ...DEFAULT_CONCURRENCY, ...options.concurrency };
    this.queues = {
      upload: new PQueue({ concurrency: c.upload }),
      submit: new PQueue({ concurrency: c.submit }),
      query: new PQueue({ concurrency: c.query }),
      download: new PQueue({ concurrency: c.download }),
    };
    this.planner = options.planner ?? new PollPlanner();
    this.clock =
      options.clock ??
      new RunClock({ spans: options.store.state.sessionSpans, session: options.store.state.sessions });
    // Every pending call and pause listens on these two: thousands of listeners are expected, not a leak.
    setMaxListeners(0, this.stopController.signal, this.abortController.signal, this.wakeController.signal);
    this.slots = new Semaphore(options.maxInFlight ?? Number.POSITIVE_INFINITY);
    this.owners = new Map();
  }

  private get state() {
    return this.o.store.state;
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** First stop request: no new work; calls on the wire get `graceMs` to settle, then are aborted. */
  stop(): void {
    if (this.stopping) return;
    this.stopController.abort();
    const timer = setTimeout(() => this.abortController.abort(), this.o.graceMs);
    timer.unref();
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

  /** Abort everything now (second SIGINT). */
  abort(): void {
    this.stopController.abort();
    this.abortController.abort();
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
        ? error
        : new Flf2vError('E_STATE', String(error), { retryable: false, cause: error });
    this.o.logger.error({ err: this.fatal.toJSON() }, 'stopping the run');
    this.stop();
  }

  private countCall(key: string): void {
    const base = this.calls.get(key) ?? this.state.tasks.get(key)?.attempts ?? 0;
    this.calls.set(key, base + 1);
  }

  /** Record every planned task, decide what each needs this session, and run until nothing is left to do. */
  async run(): Promise<RunOutcome> {
    const now = new Date().toISOString();
    const planKeys = new Set<string>();
    for (const task of this.o.plan.tasks) {
      planKeys.add(task.key);
      if (!this.state.tasks.has(task.key)) {
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
    }
    for (const key of this.state.tasks.keys()) if (!planKeys.has(key)) this.removed.add(key);
    for (const [id, key] of idOwners(this.state.tasks.values())) this.owners.set(id, key);
    for (const t of this.state.tasks.values())
      this.videosSpent += submissionsOf(t) * t.params.number_of_videos;

    try {
      await mkdir(join(this.o.outDir, 'videos'), { recursive: true });
    } catch (error) {
      this.failRun(localIoError(`cannot create ${join(this.o.outDir, 'videos')}`, error));
      return { interrupted: false, fatal: this.fatal };
    }
    const planned = new Map(this.o.plan.tasks.map((t) => [t.key, t]));
    const drivers: Promise<void>[] = [];
    for (const task of this.state.tasks.values()) {
      const driver = this.prepare(task, planned.get(task.key));
      if (driver) drivers.push(driver);
    }
    await Promise.all(drivers);
    await Promise.all(Object.values(this.queues).map((q) => q.onIdle()));
    await this.o.uploadCache?.flush();
    return { interrupted: this.stopping && !this.fatal, fatal: this.fatal };
  }

  /** Decide what a task needs this session; returns its driver, or undefined when there is nothing to do. */
  private prepare(task: TaskState, plan: PlannedTask | undefined): Promise<void> | undefined {
    const at = new Date().toISOString();
    const removed = plan === undefined;
    if (task.pending.length > 0) {
      // A durable intent with no recorded outcome: the previous runner died mid-submit.
      for (const n of task.pending) {
        this.append({
          t: 'unknown',
          key: task.key,
          n,
          at,
          error: {
            code: 'E_SUBMIT_UNKNOWN',
            message:
              'the run stopped while this task was being submitted; the provider may or may not have it',
            retryable: false,
          },
        });
      }
    }
    if (task.phase === 'failed' && this.o.retryFailed && !removed) {
      this.append({ t: 'reopened', key: task.key, at, reason: 'retry-failed' });
      this.retrying.add(task.key);
    }
    if (task.phase === 'unknown' && this.o.resubmitUnknown && !removed) {
      this.append({ t: 'reopened', key: task.key, at, reason: 'resubmit-unknown' });
    }
    switch (task.phase) {
      case 'planned':
        return removed ? undefined : this.drive(task, plan);
      case 'submitted':
        // Already running at the provider: it holds an in-flight slot (even past the cap) until it finishes.
        this.slots.force();
        return this.drive(task, plan);
      case 'completed':
        // Paid for already: finish it even if the row was removed from the manifest.
        return this.drive(task, plan);
      default:
        return undefined;
    }
  }

  private async drive(task: TaskState, plan: PlannedTask | undefined): Promise<void> {
    try {
      // Each stage moves the task on (or leaves it where it is when it must wait for another session).
      for (let steps = 0; steps < 8 && !this.stopping; steps++) {
        const before = task.phase;
        if (task.phase === 'planned' && plan) await this.submitStage(task, plan);
        else if (task.phase === 'submitted') await this.pollStage(task);
        else if (task.phase === 'completed') await this.downloadStage(task);
        if (task.phase === before || this.parked.has(task.key)) break;
      }
    } catch (error) {
      if (this.stopping || (error instanceof Flf2vError && error.code === 'E_ABORTED')) return;
      if (isFatal(error)) {
        this.failRun(error);
        return;
      }
      this.o.logger.error({ key: task.key, id: task.id, err: errorRecord(error) }, 'unexpected error');
      this.append({
        t: 'failed',
        key: task.key,
        at: new Date().toISOString(),
        stage: 'internal',
        error: errorRecord(error),
        attempts: this.attemptsOf(task),
      });
    } finally {
      if (!this.parked.has(task.key)) this.live.delete(task.key);
      this.progress.delete(task.key);
    }
  }

  private attemptsOf(task: TaskState): number {
    return this.calls.get(task.key) ?? task.attempts;
  }

  private backoffMs(attempt: number, floorMs = 0): number {
    const cap = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** Math.min(attempt, 16));
    return Math.max(floorMs, Math.random() * cap);
  }

  /** Wait for `promise`, or for a stop request; false when stopped. */
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

  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.stopController.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Like `pause`, but a wake-up (see `wake`) ends it early; false when stopped. */
  private async pollPause(ms: number): Promise<boolean> {
    const wake = this.wakeController.signal;
    try {
      await sleep(ms, undefined, { signal: AbortSignal.any([this.stopController.signal, wake]) });
    } catch {
      // stopped, or woken
    }
    return !this.stopping;
  }

  // ---- upload ------------------------------------------------------------------------------------------------

  /** The URL to send for a frame: as given, or uploaded once per content hash (run state, then shared cache). */
  private frameUrl(frame: FrameRef, key: string): Promise<string> {
    if (frame.kind === 'url') return Promise.resolve(frame.url);
    const known = this.distrusted.has(frame.sha256) ? undefined : this.state.uploads.get(frame.sha256);
    if (known && Date.now() - Date.parse(known.at) <= this.o.uploadMaxAgeMs)
      return Promise.resolve(known.url);
    let pending = this.uploads.get(frame.sha256);
    if (!pending) {
      pending = this.upload(frame, key);
      this.uploads.set(frame.sha256, pending);
      // A failed upload is forgotten so that the next task needing the frame tries again.
      pending.catch(() => this.uploads.delete(frame.sha256));
    }
    return pending;
  }

  private async upload(frame: Extract<FrameRef, { kind: 'file' }>, key: string): Promise<string> {
    const cached = this.distrusted.has(frame.sha256) ? undefined : this.o.uploadCache?.get(frame.sha256);
    if (cached) {
      // Keep the original upload time: the URL ages from then, not from this reuse.
      this.append({
        t: 'uploaded',
        sha256: frame.sha256,
        url: cached.url,
        at: new Date(cached.at).toISOString(),
      });
      return cached.url;
    }
    for (let attempt = 0; ; attempt++) {
      const result = await this.queues.upload.add(async () => {
        if (this.stopping) return undefined;
        this.countCall(key);
        try {
          return await this.o.client.upload(
            { file: frame.path, contentType: frame.format === 'png' ? 'image/png' : 'image/jpeg' },
            { signal: this.abortController.signal },
          );
        } catch (error) {
          if (error instanceof Flf2vError && error.retryable && !this.stopping) return error;
          throw error;
        }
      });
      if (result === undefined) throw new Flf2vError('E_ABORTED', 'stopped', { retryable: false });
      if (result instanceof Flf2vError) {
        this.o.logger.warn({ frame: frame.display, err: result.toJSON() }, 'upload failed; will retry');
        const floor = result instanceof ApiError ? result.retryAfterMs : undefined;
        if (!(await this.pause(this.backoffMs(attempt, floor)))) throw result;
        continue;
      }
      this.append({ t: 'uploaded', sha256: frame.sha256, url: result.url, at: new Date().toISOString() });
      this.o.uploadCache?.put(frame.sha256, result.url);
      this.freshUploads.add(frame.sha256);
      return result.url;
    }
  }

  // ---- submit ------------------------------------------------------------------------------------------------

  private request(task: TaskState, image: string, lastImage: string): GenerationRequest {
    const p = task.params;
    const input: GenerationRequest['input'] = {
      image,
      last_image: lastImage,
      prompt: p.prompt,
      resolution: p.resolution as GenerationRequest['input']['resolution'],
      duration: p.duration as GenerationRequest['input']['duration'],
    };
    if (p.negative_prompt !== undefined) input.negative_prompt = p.negative_prompt;
    if (p.aspect_ratio !== undefined) input.aspect_ratio = p.aspect_ratio;
    if (p.number_of_videos !== 1) input.number_of_videos = p.number_of_videos;
    const body: GenerationRequest = { selected_model: p.selected_model, task_type: TASK_TYPE, input };
    if (p.need_expand_prompt !== undefined) body.need_expand_prompt = p.need_expand_prompt;
    return body;
  }

  /** Frames of `plan` whose URL was reused from an earlier session rather than uploaded by this one. */
  private reusedFrames(plan: PlannedTask): string[] {
    const reused: string[] = [];
    for (const f of [plan.image, plan.last_image]) {
      if (f.kind === 'file' && !this.freshUploads.has(f.sha256)) reused.push(f.sha256);
    }
    return reused;
  }

  /** The request body, frames uploaded (or their live URLs reused); undefined when an upload failed for good. */
  private async prepareBody(task: TaskState, plan: PlannedTask): Promise<GenerationRequest | undefined> {
    this.live.set(task.key, 'uploading');
    try {
      const [image, lastImage] = await Promise.all([
        this.frameUrl(plan.image, task.key),
        this.frameUrl(plan.last_image, task.key),
      ]);
      return this.request(task, image, lastImage);
    } catch (error) {
      if (this.stopping || isFatal(error)) throw error;
      this.append({
        t: 'failed',
        key: task.key,
        at: new Date().toISOString(),
        stage: 'upload',
        error: errorRecord(error),
        attempts: this.attemptsOf(task),
      });
      return undefined;
    }
  }

  private async submitStage(task: TaskState, plan: PlannedTask): Promise<void> {
    let body = await this.prepareBody(task, plan);
    if (!body) return;
    let staleChecked = false;
    for (let attempt = 0; task.phase === 'planned'; attempt++) {
      if (this.stopping) return;
      const cost = task.params.number_of_videos;
      if (this.o.maxVideos !== undefined && this.videosSpent + cost > this.o.maxVideos) {
        this.live.set(task.key, 'budget');
        this.parked.add(task.key);
        return;
      }
      // Reserve the budget before waiting for anything, so concurrent drivers cannot all pass the check.
      this.videosSpent += cost;
      let spent = false;
      let holdSlot = false;
      try {
        this.live.set(task.key, 'submitting');
        const ok = await this.slots.acquire(this.stopController.signal).then(
          () => true,
          () => false,
        );
        if (!ok) return;
        const reused = staleChecked ? [] : this.reusedFrames(plan);
        const request = body;
        const outcome = await this.queues.submit.add(() => this.submitOnce(task, request, reused.length > 0));
        // A task that was (or may have been) created costs its videos; anything else gives them back.
        spent = outcome === 'submitted' || outcome === 'unknown';
        if (outcome === 'submitted') {
          holdSlot = true;
          return;
        }
        if (outcome === 'requeue') continue;
        if (outcome === 'stale-frames') {
          // Refused outright while sending frame URLs from an earlier session: they may have expired at the
          // provider. Nothing was created, so upload the frames again and send once more.
          staleChecked = true;
          for (const sha of reused) {
            // The first task to find out drops the memoized URL; later ones share its new upload.
            if (this.freshUploads.has(sha) || this.distrusted.has(sha)) continue;
            this.distrusted.add(sha);
            this.uploads.delete(sha);
          }
          const fresh = await this.prepareBody(task, plan);
          if (!fresh) return;
          body = fresh;
          continue;
        }
        if (typeof outcome !== 'number') return;
        // Transient and provably not created: try again after a pause (never fail a task because of 429).
        if (!(await this.pause(this.backoffMs(attempt, outcome)))) return;
      } finally {
        if (!spent) this.videosSpent -= cost;
        if (!holdSlot) this.slots.release();
      }
    }
  }

  /**
   * One POST. Returns what happened — `submitted`, `unknown` (maybe created), `failed` (provably not created,
   * permanently), `stopped` (not sent), or the delay before retrying a provably-not-created transient failure.
   * The journal already says so.
   */
  private async submitOnce(
    task: TaskState,
    body: GenerationRequest,
    framesReused = false,
  ): Promise<'submitted' | 'unknown' | 'failed' | 'stale-frames' | 'requeue' | 'stopped' | number> {
    if (this.stopping) return 'stopped';
    // Slots taken before a provider cap was learned outnumber it: give this one back and queue again.
    if (this.slots.inUse > this.slots.limit) return 'requeue';
    const n = task.lastN + 1;
    await this.o.store.appendDurable({ t: 'intent', key: task.key, n, at: new Date().toISOString() });
    this.countCall(task.key);
    try {
      // Deliberately not the stop signal: a submit on the wire is allowed to finish (see the header comment).
      const result = await this.o.client.submit(body, { signal: this.abortController.signal });
      this.submittedAtMono.set(task.key, this.clock.now());
      this.append({
        t: 'submitted',
        key: task.key,
        n,
        taskId: result.taskId,
        at: new Date().toISOString(),
        attempts: this.attemptsOf(task),
      });
      // Commit now rather than with the next group: a kill in between would leave the task unknown.
      void this.o.store.flush().catch(() => {});
      this.o.logger.debug({ key: task.key, id: task.id, taskId: result.taskId, n }, 'submitted');
      return 'submitted';
    } catch (error) {
      const at = new Date().toISOString();
      const rec = errorRecord(error);
      const created = error instanceof ApiError ? error.maybeCreated : undefined;
      if (created !== false) {
        // Maybe created: never re-sent silently.
        this.append({ t: 'unknown', key: task.key, n, at, error: rec });
        this.o.logger.warn({ key: task.key, id: task.id, err: rec }, 'submit outcome unknown; not re-sent');
        return 'unknown';
      }
      this.append({ t: 'not_created', key: task.key, n, at, error: rec });
      if (isFatal(error)) throw error;
      if (error instanceof ApiError && error.limit === 'concurrency') this.learnCap();
      if (rec.retryable && !this.stopping) {
        this.o.logger.debug({ key: task.key, err: rec }, 'submit refused; will retry');
        return error instanceof ApiError && error.retryAfterMs ? error.retryAfterMs : 0;
      }
      if (rec.code === 'E_ABORTED' || this.stopping) return 'stopped';
      if (framesReused && (rec.code === 'E_PROVIDER' || rec.code === 'E_INVALID_REQUEST')) {
        this.o.logger.info(
          { key: task.key, id: task.id, err: rec },
          'refused with reused frame URLs; uploading again',
        );
        return 'stale-frames';
      }
      this.append({
        t: 'failed',
        key: task.key,
        at,
        stage: 'submit',
        error: rec,
        attempts: this.attemptsOf(task),
      });
      this.o.logger.warn({ key: task.key, id: task.id, err: rec }, 'submit failed');
      return 'failed';
    }
  }

  /** The provider refused a submit because too many tasks run: cap at what runs now (see `slots`). */
  private learnCap(): void {
    if (this.o.maxInFlight) return;
    const now = this.clock.now();
    // Several submits refused in one burst are one event: lower the cap once.
    if (now - this.lastCapRefusalAt < 1000) return;
    this.lastCapRefusalAt = now;
    // What this session polls can include tasks the provider already finished (not yet noticed), so the
    // provider's count may be lower: a refusal always takes the cap at least one below the current one.
    const limit = this.slots.limit;
    const next = Math.max(
      1,
      Math.min(this.atProvider, limit === Number.POSITIVE_INFINITY ? this.atProvider : limit - 1),
    );
    if (next < limit) {
      this.slots.setLimit(next);
      this.learnedCap = true;
      this.o.logger.info({ maxInFlight: next }, 'the provider caps running tasks; learned the cap');
    }
  }

  private probeCap(): void {
    if (!this.learnedCap) return;
    const now = this.clock.now();
    if (now - this.lastCapRefusalAt > this.o.capProbeMs && now - this.lastCapRaiseAt > this.o.capProbeMs) {
      this.lastCapRaiseAt = now;
      this.slots.setLimit(this.slots.limit + 1);
    }
  }

  // ---- poll --------------------------------------------------------------------------------------------------

  private async pollStage(task: TaskState): Promise<void> {
    const taskId = task.taskId!;
    const bucket = PollPlanner.bucketOf(task.params);
    const seconds = task.params.duration * task.params.number_of_videos;
    // A task submitted by an earlier session is resumed: its clock is the session time since its submission (a
    // pause between sessions does not count), and nothing about durations is learned from it, since it may
    // have finished at any moment while no session was watching.
    const ownMono = this.submittedAtMono.get(task.key);
    const resumed = ownMono === undefined;
    const submittedAt = ownMono ?? this.clock.monoAt(task.submittedAt ?? new Date().toISOString());
    let polls = 0;
    let previousPollMs = 0;
    let errors = 0;
    // Urgent: other tasks wait for the in-flight slot this one holds.
    const urgentAtStart = this.slots.waiting > 0;
    let delay = resumed ? 0 : this.planner.firstDelayMs(bucket, seconds, urgentAtStart);
    this.live.set(task.key, 'queued');
    let releaseScout: (() => void) | undefined;
    // Counted as running at the provider once known to be: at once when submitted now, after its first poll
    // when resumed (it may have finished long ago; a cap learned from it would be too high).
    let counted = !resumed;
    if (counted) this.atProvider++;
    let holding = true;
    // The task no longer runs at the provider (done, failed, stalled) or we are stopping: free its slot, once.
    const freeSlot = () => {
      if (!holding) return;
      holding = false;
      if (counted) this.atProvider--;
      this.slots.release();
      this.probeCap();
    };
    try {
      while (task.phase === 'submitted') {
        if (!this.planner.hasEstimate && !releaseScout && !resumed) {
          releaseScout = this.planner.tryScout();
          if (!releaseScout) {
            // Not a scout: wait for the first completion anywhere, then poll when this task is due by it.
            if (!(await this.until(this.planner.waitForEstimate()))) return;
            if (!this.planner.hasEstimate) continue; // a scout gave up: try to take its place
            delay = Math.max(
              0,
              submittedAt +
                this.planner.firstDelayMs(bucket, seconds, this.slots.waiting > 0) -
                this.clock.now(),
            );
          }
        } else if (releaseScout && this.planner.hasEstimate) {
          releaseScout();
        }
        if (delay > 0 && !(await this.pollPause(delay))) return;
        if (this.stopping) return;
        const elapsed = this.clock.now() - submittedAt;
        const status = await this.queues.query.add(async () => {
          if (this.stopping) return undefined;
          this.countCall(task.key);
          try {
            return await this.o.client.status(taskId, { signal: this.abortController.signal });
          } catch (error) {
            return error instanceof Flf2vError ? error : errorRecord(error);
          }
        });
        if (status === undefined) return;
        polls++;
        const pollMs = this.clock.now() - submittedAt;
        if (status instanceof Flf2vError || !('status' in status)) {
          if (status instanceof Flf2vError && isFatal(status)) throw status;
          const err = status instanceof Flf2vError ? errorRecord(status) : status;
          errors++;
          if (!err.retryable && errors >= 5) {
            this.append({
              t: 'failed',
              key: task.key,
              at: new Date().toISOString(),
              stage: 'poll',
              error: err,
              attempts: this.attemptsOf(task),
            });
            return;
          }
          delay = this.backoffMs(errors, status instanceof ApiError ? status.retryAfterMs : 0);
          continue;
        }
        errors = 0;
        const complete = status.status === 'COMPLETED';
        const ended = complete || status.status === 'FAILED' || status.status === 'CANCELED';
        if (resumed && polls === 1 && ended) this.settledWhileAway++;
        if (!ended && !counted) {
          counted = true;
          this.atProvider++;
        }
        // An early (urgent) first poll says nothing about where the quantile should sit.
        if (polls === 1 && !resumed && !urgentAtStart)
          this.planner.observeFirstPoll(bucket, seconds, pollMs, complete);
        if (complete) {
          if (!resumed) this.planner.observeCompletion(bucket, seconds, previousPollMs, pollMs);
          // The provider's slot is free the moment it says COMPLETED: the next task need not wait for this
          // one's result query.
          freeSlot();
          await this.fetchResult(task);
          return;
        }
        if (status.status === 'FAILED' || status.status === 'CANCELED') {
          if (this.retrying.delete(task.key)) {
            // --retry-failed, and the provider confirms the failure: send the task again.
            this.append({
              t: 'reopened',
              key: task.key,
              at: new Date().toISOString(),
              reason: 'resubmit-failed',
            });
            return;
          }
          this.append({
            t: 'failed',
            key: task.key,
            at: new Date().toISOString(),
            stage: 'provider',
            error: {
              code: 'E_TASK_FAILED',
              message: `the provider reports the task ${status.status}${status.message ? `: ${status.message}` : ''}`,
              retryable: false,
            },
            attempts: this.attemptsOf(task),
          });
          return;
        }
        if (status.status === 'UNKNOWN') {
          this.o.logger.warn(
            { key: task.key, taskId, rawStatus: status.rawStatus },
            'undocumented task status; still polling',
          );
        }
        this.live.set(task.key, status.status === 'PENDING' ? 'queued' : 'running');
        if (status.progress !== undefined) this.progress.set(task.key, status.progress);
        if (elapsed > this.o.taskTimeoutMs) {
          this.append({ t: 'stalled', key: task.key, at: new Date().toISOString() });
          this.live.set(task.key, 'stalled');
          this.parked.add(task.key);
          this.o.logger.warn(
            { key: task.key, taskId, elapsedMs: elapsed },
            'task stalled past the task timeout',
          );
          return;
        }
        previousPollMs = pollMs;
        if (
          status.status === 'RUNNING' &&
          status.progress !== undefined &&
          status.progress > 0 &&
          status.progress < 100
        ) {
          this.planner.sawProgress();
        }
        delay = this.planner.nextDelayMs({
          bucket,
          seconds,
          elapsedMs: pollMs,
          polls,
          progress: status.progress,
          queued: status.status === 'PENDING',
          urgent: this.slots.waiting > 0,
        });
      }
    } finally {
      releaseScout?.();
      freeSlot();
    }
  }

  /** Ask for the result URLs (also used to refresh expired ones). */
  private async fetchResult(task: TaskState): Promise<boolean> {
    const taskId = task.taskId!;
    for (let attempt = 0; ; attempt++) {
      if (this.stopping) return false;
      const result = await this.queues.query.add(async () => {
        if (this.stopping) return undefined;
        this.countCall(task.key);
        try {
          return await this.o.client.result(taskId, { signal: this.abortController.signal });
        } catch (error) {
          if (isFatal(error)) throw error;
          return error instanceof Flf2vError
            ? error
            : new Flf2vError('E_INTERNAL', String(error), { retryable: false });
        }
      });
      if (result === undefined) return false;
      if (!(result instanceof Flf2vError) && result.urls.length > 0) {
        this.freshUrls.add(task.key);
        this.append({
          t: 'completed',
          key: task.key,
          taskId,
          urls: result.urls,
          at: new Date().toISOString(),
          attempts: this.attemptsOf(task),
        });
        return true;
      }
      const err =
        result instanceof Flf2vError
          ? result
          : new Flf2vError('E_BAD_RESPONSE', 'the result has no video URLs', { retryable: true });
      if (!err.retryable && attempt >= 4) {
        this.append({
          t: 'failed',
          key: task.key,
          at: new Date().toISOString(),
          stage: 'result',
          error: errorRecord(err),
          attempts: this.attemptsOf(task),
        });
        return false;
      }
      if (!(await this.pause(this.backoffMs(attempt, err instanceof ApiError ? err.retryAfterMs : 0))))
        return false;
    }
  }

  // ---- download ----------------------------------------------------------------------------------------------

  private async downloadStage(task: TaskState): Promise<void> {
    this.live.set(task.key, 'downloading');
    let refreshes = 0;
    let failures = 0;
    let struggles = 0;
    // URLs recorded by an earlier session may have expired, or point where nothing answers any more (a CDN
    // node, a restarted simulator's port), and the client would keep retrying them as an outage. One result
    // query, which never resubmits, gives current ones first.
    if (!this.freshUrls.has(task.key) && task.urls?.some((_, i) => !task.videos[i])) {
      this.o.logger.debug(
        { key: task.key, taskId: task.taskId },
        'refreshing result URLs from an earlier session',
      );
      if (!(await this.fetchResult(task))) return;
    }
    while (task.phase === 'completed') {
      if (this.stopping) return;
      const urls = task.urls ?? [];
      const index = urls.findIndex((_, i) => !task.videos[i]);
      if (index < 0) return;
      const rel = videoPath(task, index, urls.length, this.owners);
      const outcome = await this.queues.download.add(async () => {
        if (this.stopping) return undefined;
        this.countCall(task.key);
        try {
          const dest = join(this.o.outDir, rel);
          return await this.o.client.download(urls[index]!, dest, { signal: this.abortController.signal });
        } catch (error) {
          if (isFatal(error)) throw error;
          return error instanceof Flf2vError
            ? error
            : new Flf2vError('E_DOWNLOAD', String(error), { retryable: true, cause: error });
        }
      });
      if (outcome === undefined || (outcome instanceof Flf2vError && outcome.code === 'E_ABORTED')) return;
      if (!(outcome instanceof Flf2vError)) {
        this.append({
          t: 'downloaded',
          key: task.key,
          index,
          path: rel,
          url: urls[index]!,
          sha256: outcome.sha256,
          bytes: outcome.bytes,
          at: new Date().toISOString(),
          attempts: this.attemptsOf(task),
        });
        continue;
      }
      if (outcome.code === 'E_URL_EXPIRED' && refreshes < 5) {
        // The URL expired (or was refused): ask for fresh ones, never resubmit.
        refreshes++;
        this.o.logger.info(
          { key: task.key, taskId: task.taskId },
          'result URL refused; asking for fresh URLs',
        );
        if (!(await this.fetchResult(task))) return;
        continue;
      }
      // The provider struggling (5xx, resets, timeouts, 429) parks the download until it recovers: the video
      // is paid for. Only a download that keeps arriving broken, or a permanent refusal, fails the task (and
      // --retry-failed fetches fresh URLs for it).
      const struggling = ['E_SERVER', 'E_NETWORK', 'E_TIMEOUT', 'E_RATE_LIMITED'].includes(outcome.code);
      if (struggling) struggles++;
      else failures++;
      // A download host that keeps failing may have been replaced: ask for current URLs every sixth failure.
      if (struggling && refreshes < 5 && struggles % 6 === 0) {
        refreshes++;
        this.o.logger.info(
          { key: task.key, taskId: task.taskId, err: outcome.code },
          'download keeps failing; asking for current result URLs',
        );
        if (!(await this.fetchResult(task))) return;
        continue;
      }
      if (!outcome.retryable || failures > 8) {
        this.append({
          t: 'failed',
          key: task.key,
          at: new Date().toISOString(),
          stage: 'download',
          error: errorRecord(outcome),
          attempts: this.attemptsOf(task),
        });
        return;
      }
      if (!(await this.pause(this.backoffMs(failures + (struggling ? 3 : 0))))) return;
    }
  }

  /** Counts for progress output. */
  snapshot(): { phases: Record<string, number>; live: Record<string, number>; removed: number } {
    const phases: Record<string, number> = {};
    for (const t of this.state.tasks.values()) {
      if (this.removed.has(t.key) && t.phase !== 'submitted' && t.phase !== 'completed') continue;
      // An intent whose POST is on the wire right now is being submitted, not unknown.
      const phase = t.phase === 'unknown' && this.live.get(t.key) === 'submitting' ? 'planned' : t.phase;
      phases[phase] = (phases[phase] ?? 0) + 1;
    }
    const live: Record<string, number> = {};
    for (const s of this.live.values()) live[s] = (live[s] ?? 0) + 1;
    return { phases, live, removed: this.removed.size };
  }
}
