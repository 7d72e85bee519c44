import { createHash } from 'node:crypto';
import { checkOptions } from './_check-options.js';
import { FaultPlan } from './_faults.js';
import { LedgerRecorder } from './_ledger.js';
import { uniqueVideo } from './_mp4.js';
import { createPrng, type Prng } from './_prng.js';
import { ClipRenderer, type Frame } from './_render.js';
import { UrlSigner } from './_signing.js';
import { TaskFile } from './_task-file.js';
import { type Task, TaskBook } from './_tasks.js';
import { UploadStore } from './_upload-store.js';
import { WindowLimiter } from './_window-limiter.js';
import { SimulatorConfigError } from './errors.js';
import { mergeOptions } from './options.js';
import type { LimitOptions, ResolvedSimulatorOptions, SimulatorOptions } from './types.js';

export type { StoredUpload } from './_upload-store.js';

type LimitedClass = 'submit' | 'query' | 'upload';

/** Everything a running simulator holds; handlers receive it. */
export class SimState {
  opts: ResolvedSimulatorOptions;
  readonly seed: number;
  readonly ledger: LedgerRecorder;
  readonly tasks: TaskBook;
  readonly faults: FaultPlan;
  readonly uploads: UploadStore;
  readonly ids: Prng;
  readonly jitter: Prng;
  readonly failures: Prng;
  readonly signer: UrlSigner;
  readonly renderer: ClipRenderer;
  /** Rendered clips by task id (render: 'ffmpeg' only). */
  private readonly renders = new Map<string, Promise<Buffer | undefined>>();
  /** Timers of delayed (slow) responses, cleared on close. */
  readonly timers = new Set<NodeJS.Timeout>();
  baseUrl = '';
  private readonly limiters: Partial<Record<LimitedClass, WindowLimiter>> = {};
  private readonly videoShas = new Map<string, string>();
  private readonly taskFile: TaskFile | undefined;

  constructor(
    opts: ResolvedSimulatorOptions,
    seed: number,
    readonly fixture: Buffer,
  ) {
    this.opts = opts;
    this.seed = seed;
    this.ledger = new LedgerRecorder(opts.clock(), seed, opts.requestLogLimit);
    this.tasks = new TaskBook(opts.limits.maxRunningPerKey ?? Number.POSITIVE_INFINITY, (...a) =>
      this.ledger.concurrency(...a),
    );
    this.faults = new FaultPlan(opts.faults, createPrng(seed, 'faults'), (e, k) => this.ledger.fault(e, k));
    this.ids = createPrng(seed, 'ids');
    this.jitter = createPrng(seed, 'jitter');
    this.failures = createPrng(seed, 'failures');
    this.signer = new UrlSigner(createPrng(seed, 'signing').hex(16));
    this.renderer = new ClipRenderer(opts.renderCacheDir);
    this.rebuildLimiters(opts.limits);
    this.uploads = new UploadStore(opts.uploadDir);
    if (opts.taskFile !== undefined) {
      const { file, tasks } = TaskFile.open(opts.taskFile);
      this.taskFile = file;
      const now = this.now();
      for (const task of tasks) this.tasks.add(task, Math.min(task.submittedAt, now));
      this.ledger.tasksRestored(tasks.length);
    }
  }

  /** A task was accepted: keep it in the task file, if there is one. */
  remember(task: Task): void {
    this.taskFile?.append(task);
  }

  now(): number {
    return this.opts.clock();
  }

  /** 0 when admitted, else ms until the class's window admits this key again. */
  takeLimit(cls: LimitedClass, key: string, now: number): number {
    return this.limiters[cls]?.take(key, now) ?? 0;
  }

  update(partial: Partial<SimulatorOptions>): void {
    const { options, problems } = checkOptions(partial, 'code');
    for (const k of ['port', 'host', 'seed', 'taskFile', 'uploadDir', 'renderCacheDir'] as const) {
      if (options[k] !== undefined)
        problems.push({ key: k, expected: 'no change while running', found: 'a new value' });
    }
    if (problems.length > 0) throw new SimulatorConfigError(problems);
    const before = this.opts;
    this.opts = mergeOptions(before, options);
    const limits = this.opts.limits;
    this.rebuildLimiters(limits, before.limits);
    if (limits.maxRunningPerKey !== before.limits.maxRunningPerKey)
      this.tasks.setCap(limits.maxRunningPerKey);
    if (options.faults) this.faults.set(this.opts.faults);
    if (this.opts.requestLogLimit !== before.requestLogLimit)
      this.ledger.resizeLog(this.opts.requestLogLimit);
  }

  /**
   * With `render: 'ffmpeg'`, the clip of a task whose frames are known: rendered from `frames` (just
   * uploaded), or for a task restored from the task file, taken from the render cache by its frames' hashes
   * (or rendered again when `uploadDir` still holds both frames).
   */
  renderFor(task: Task, frames?: readonly [Frame, Frame]): Promise<Buffer | undefined> | undefined {
    if (this.opts.render !== 'ffmpeg' || task.frames === undefined) return undefined;
    let clip = this.renders.get(task.id);
    if (clip === undefined) {
      const [a, b] = frames ?? task.frames.map((sha) => this.uploads.get(sha));
      clip = this.renderer.clip(task.frames, task.duration, a && b ? [a, b] : undefined);
      this.renders.set(task.id, clip);
    }
    return clip;
  }

  /** The bytes of a result video: the fixture (or a rendered clip) plus a box that makes them unique. */
  async videoBytes(task: Task, index: number): Promise<{ body: Buffer; sha256: string }> {
    const taskId = task.id;
    const rendered = await this.renderFor(task);
    const body = uniqueVideo(rendered ?? this.fixture, taskId, index);
    const k = `${taskId}/${index}`;
    let sha256 = this.videoShas.get(k);
    if (sha256 === undefined) {
      sha256 = createHash('sha256').update(body).digest('hex');
      this.videoShas.set(k, sha256);
    }
    return { body, sha256 };
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.renderer.close();
    this.taskFile?.close();
  }

  private rebuildLimiters(limits: LimitOptions, before?: LimitOptions): void {
    for (const cls of ['submit', 'query', 'upload'] as const) {
      const limit = limits[cls];
      const prev = before?.[cls];
      if (before && prev?.max === limit?.max && prev?.windowMs === limit?.windowMs) continue;
      if (limit) this.limiters[cls] = new WindowLimiter(limit);
      else delete this.limiters[cls];
    }
  }
}
