/**
 * When to ask the provider about a running task: rarely (each query costs rate budget) yet promptly (a slot
 * under --max-in-flight and a short-lived result URL are waiting on it).
 *
 * Per bucket (resolution × duration × videos) the planner tracks `first`, the delay after submission at which
 * to poll first, as an online quantile estimate: every first poll tells whether the task had finished by then,
 * and `first` moves up or down multiplicatively so that about `targetHitRate` of tasks are found complete at
 * their first poll. This works on censored observations (we never see the exact completion time), does not
 * ratchet upward the way averaging "found complete at" times would, and follows drift in provider speed.
 * Tasks not complete at their first poll are polled every `followUpFraction × first`, backing off as they overrun.
 * When the provider reports progress, the poll after a RUNNING answer is placed at the completion the progress
 * predicts, which pins completion closely; the first poll can then come earlier (`hitRateWithProgress`), since
 * a task still running at it costs one well-aimed extra query rather than a series of follow-ups.
 * Under pressure (tasks waiting for an in-flight slot that a completion would free) follow-ups tighten.
 * A bucket with no history borrows from other buckets, scaled by video seconds. With no history at all, only
 * a few "scout" tasks poll (from `initialDelayMs`, growing geometrically); everyone else waits for the first
 * completion, which gives the estimate they are then scheduled by. A 10,000-task run on a provider that takes
 * minutes per task thus spends a handful of queries learning, not tens of thousands.
 */

export interface PollPlannerOptions {
  /** First poll delay of a scout before anything has completed. @default 250 */
  initialDelayMs?: number;
  /** Growth of the delay between polls before the first completion. @default 1.5 */
  initialGrowth?: number;
  /** Share of tasks to find complete at their first poll. @default 0.7 */
  targetHitRate?: number;
  /** Step of the quantile estimate (log scale). @default 0.1 */
  learningRate?: number;
  /** Share found complete at the first poll once the provider has shown it reports progress. @default 0.35 */
  hitRateWithProgress?: number;
  /** Follow-up polls after a miss, as a fraction of the first-poll delay. @default 0.08 */
  followUpFraction?: number;
  /** Follow-ups under pressure (a completion would free a slot others wait for). @default 0.02 */
  urgentFollowUpFraction?: number;
  /** @default 200 */
  minIntervalMs?: number;
  /** @default 60_000 */
  maxIntervalMs?: number;
  /** Tasks polling at once before the first completion. @default 3 */
  scouts?: number;
}

export interface PollContext {
  bucket: string;
  /** Video seconds of the task (for borrowing across buckets). */
  seconds: number;
  /** Milliseconds since submission. */
  elapsedMs: number;
  /** Polls already made for this task. */
  polls: number;
  /** Provider-reported progress 0–100, when given. */
  progress?: number;
  /** The provider says the task is still queued (not yet running). */
  queued?: boolean;
  /** Other tasks wait for the in-flight slot this one holds. */
  urgent?: boolean;
}

interface Bucket {
  firstMs: number;
  seconds: number;
  observations: number;
}

export class PollPlanner {
  private readonly buckets = new Map<string, Bucket>();
  private activeScouts = 0;
  private progressReported = false;
  private wakeWaiters!: () => void;
  private scoutFreed = new Promise<void>((resolve) => {
    this.wakeWaiters = resolve;
  });
  private estimated!: () => void;
  /** Resolves at the first completion anywhere: from then on every task has an estimate. */
  readonly firstEstimate = new Promise<void>((resolve) => {
    this.estimated = resolve;
  });
  private readonly o: Required<PollPlannerOptions>;

  constructor(options: PollPlannerOptions = {}) {
    this.o = {
      initialDelayMs: options.initialDelayMs ?? 250,
      initialGrowth: options.initialGrowth ?? 1.5,
      targetHitRate: options.targetHitRate ?? 0.7,
      learningRate: options.learningRate ?? 0.1,
      followUpFraction: options.followUpFraction ?? 0.08,
      hitRateWithProgress: options.hitRateWithProgress ?? 0.35,
      urgentFollowUpFraction: options.urgentFollowUpFraction ?? 0.02,
      minIntervalMs: options.minIntervalMs ?? 200,
      maxIntervalMs: options.maxIntervalMs ?? 60_000,
      scouts: options.scouts ?? 3,
    };
  }

  /** The provider reports a usable progress for running tasks: aim polls by it from now on. */
  sawProgress(): void {
    this.progressReported = true;
  }

  get hasEstimate(): boolean {
    return this.buckets.size > 0;
  }

  /** Become a scout (poll before any estimate exists) if fewer than `scouts` are active; call `release` after. */
  tryScout(): (() => void) | undefined {
    if (this.activeScouts >= this.o.scouts) return undefined;
    this.activeScouts++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.activeScouts--;
      const wake = this.wakeWaiters;
      this.scoutFreed = new Promise((resolve) => {
        this.wakeWaiters = resolve;
      });
      wake();
    };
  }

  /**
   * Resolves when waiting makes no sense any more: an estimate exists, or a scout finished without one (it
   * failed at the provider), so a waiting task may take its place.
   */
  waitForEstimate(): Promise<void> {
    return Promise.race([this.firstEstimate, this.scoutFreed]);
  }

  static bucketOf(params: { resolution: string; duration: number; number_of_videos: number }): string {
    return `${params.resolution}/${params.duration}s/x${params.number_of_videos}`;
  }

  /** The first-poll delay for a bucket, or undefined before any task has completed anywhere. */
  estimateMs(bucket: string, seconds: number): number | undefined {
    const own = this.buckets.get(bucket);
    if (own) return own.firstMs;
    let best: Bucket | undefined;
    for (const b of this.buckets.values()) if (!best || b.observations > best.observations) best = b;
    return best ? (best.firstMs * seconds) / Math.max(1, best.seconds) : undefined;
  }

  /**
   * Delay from submission to the first poll. Under pressure, with progress reported, poll early: nearly every
   * task is then still running, and its progress aims the next poll at its completion.
   */
  firstDelayMs(bucket: string, seconds: number, urgent = false): number {
    const estimate = this.estimateMs(bucket, seconds);
    if (estimate === undefined) return this.o.initialDelayMs;
    return urgent && this.progressReported ? estimate * 0.8 : estimate;
  }

  /** Delay until the next poll of a task that was not complete at its last poll. */
  nextDelayMs(ctx: PollContext): number {
    const estimate = this.estimateMs(ctx.bucket, ctx.seconds);
    if (estimate === undefined) {
      // Nothing has completed yet: geometric backoff from the initial delay.
      return this.clamp(this.o.initialDelayMs * this.o.initialGrowth ** Math.max(0, ctx.polls - 1));
    }
    const fraction = ctx.urgent ? this.o.urgentFollowUpFraction : this.o.followUpFraction;
    const step = Math.max(this.o.minIntervalMs, estimate * fraction);
    if (ctx.queued) return this.clamp(Math.max(step, estimate / 4));
    if (ctx.progress !== undefined && ctx.progress > 0 && ctx.progress < 100) {
      // Linear progress: the rest takes elapsed × (100 - p) / p. Aim just past it (progress is rounded).
      // A provider whose progress misleads (stuck at 10%) must not push the next poll past what the
      // duration estimate allows.
      const remaining = (ctx.elapsedMs * (100 - ctx.progress)) / ctx.progress;
      const byEstimate = Math.max(step, estimate * 1.5 - ctx.elapsedMs);
      const aimed = ctx.urgent ? remaining * 1.01 + 10 : remaining * 1.02 + 30;
      return this.clamp(Math.max(ctx.urgent ? 20 : this.o.minIntervalMs, Math.min(aimed, byEstimate)));
    }
    // Overrunning: back off in proportion to how far past the estimate the task is.
    const overrun = ctx.elapsedMs - estimate;
    return this.clamp(overrun > estimate ? Math.max(step, overrun * 0.1) : step);
  }

  /**
   * Learn from a task's first poll: was it complete by then? `firstPollDelayMs` is when that poll actually
   * happened after submission (queues and rate limits can delay it past the plan).
   */
  observeFirstPoll(bucket: string, seconds: number, firstPollDelayMs: number, complete: boolean): void {
    const b = this.buckets.get(bucket);
    if (!b) return;
    const planned = b.firstMs;
    // A poll that happened well after the plan and found the task complete says nothing about the plan;
    // nor does one well before it that found the task running.
    if (complete && firstPollDelayMs > planned * 1.05) return;
    if (!complete && firstPollDelayMs < planned * 0.95) return;
    const q = this.progressReported ? this.o.hitRateWithProgress : this.o.targetHitRate;
    // Complete → we polled too late for the quantile: come down; not complete → go up.
    b.firstMs = Math.max(1, planned * Math.exp(this.o.learningRate * (complete ? q - 1 : q)));
    b.seconds = seconds;
    b.observations++;
  }

  /**
   * Learn from a completion noticed `detectedAtMs` after submission, the previous poll having been at
   * `previousPollMs` (the task finished somewhere in between). Seeds a bucket's estimate.
   */
  observeCompletion(bucket: string, seconds: number, previousPollMs: number, detectedAtMs: number): void {
    if (this.buckets.has(bucket)) return;
    const midpoint = previousPollMs + (detectedAtMs - previousPollMs) / 2;
    this.buckets.set(bucket, { firstMs: Math.max(1, midpoint), seconds, observations: 1 });
    this.estimated();
  }

  private clamp(ms: number): number {
    return Math.min(this.o.maxIntervalMs, Math.max(this.o.minIntervalMs, ms));
  }
}
