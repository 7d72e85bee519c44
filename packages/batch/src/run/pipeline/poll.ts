import { PollPlanner } from '../poll-planner.js';
import { call, failTask, retryAfterOf } from './call.js';
import type { Stage, StageContext, TaskRun } from './context.js';

/**
 * Poll: ask the provider about a running task — rarely (each query costs rate budget) yet promptly (an in-flight
 * slot and a short-lived result URL wait on it). When is the poll planner's judgement; this stage applies it and
 * teaches it from tasks submitted in this session only (see `clock.ts`).
 *
 * A task resumed from an earlier session is polled at once (it may have finished while no session ran), counts
 * as running at the provider only once a poll says so, and its clock is the session time since its submission.
 * A task still running after --task-timeout of session time is parked as stalled (polled again next session).
 */
export const pollStage: Stage = {
  name: 'poll',
  accepts: (run) => run.task.phase === 'submitted' && !run.providerDone,
  async run(run, ctx) {
    const running = new RunningAtProvider(run, ctx);
    try {
      return await poll(run, ctx, running);
    } finally {
      running.done();
    }
  },
};

/** The task's in-flight slot and its place in the count of tasks running at the provider, given back once. */
class RunningAtProvider {
  private counted: boolean;

  constructor(
    private readonly run: TaskRun,
    private readonly ctx: StageContext,
  ) {
    this.counted = run.submittedAtMono !== undefined;
    if (this.counted) ctx.inFlight.running(1);
  }

  /** A poll says the task still runs. */
  confirmed(): void {
    if (this.counted) return;
    this.counted = true;
    this.ctx.inFlight.running(1);
  }

  /** The task no longer runs at the provider, or this session stops watching it. */
  done(): void {
    if (this.counted) this.ctx.inFlight.running(-1);
    this.counted = false;
    this.ctx.inFlight.release(this.run);
  }
}

async function poll(
  run: TaskRun,
  ctx: StageContext,
  running: RunningAtProvider,
): Promise<'next' | 'wait' | 'stopped'> {
  const { task, planner } = { task: run.task, planner: ctx.planner };
  const taskId = task.taskId!;
  const bucket = PollPlanner.bucketOf(task.params);
  const seconds = task.params.duration * task.params.number_of_videos;
  const resumed = run.submittedAtMono === undefined;
  const submittedAt = run.submittedAtMono ?? ctx.clock.monoAt(task.submittedAt ?? new Date().toISOString());
  const retries = ctx.retries(true);
  let polls = 0;
  let previousPollMs = 0;
  // Urgent: other tasks wait for the in-flight slot this one holds.
  const urgentAtStart = ctx.inFlight.waiting > 0;
  let delay = resumed ? 0 : planner.firstDelayMs(bucket, seconds, urgentAtStart);
  let releaseScout: (() => void) | undefined;
  ctx.live.set(task.key, 'queued');
  try {
    for (;;) {
      if (!planner.hasEstimate && !releaseScout && !resumed) {
        releaseScout = planner.tryScout();
        if (!releaseScout) {
          // Not a scout: wait for the first completion anywhere, then poll when this task is due by it.
          if (!(await ctx.until(planner.waitForEstimate()))) return 'stopped';
          if (!planner.hasEstimate) continue; // a scout gave up: try to take its place
          const due = submittedAt + planner.firstDelayMs(bucket, seconds, ctx.inFlight.waiting > 0);
          delay = Math.max(0, due - ctx.clock.now());
        }
      } else if (releaseScout && planner.hasEstimate) {
        releaseScout();
      }
      if (delay > 0 && !(await ctx.pollPause(delay))) return 'stopped';
      if (ctx.stopping()) return 'stopped';
      const elapsed = ctx.clock.now() - submittedAt;
      const outcome = await call(ctx, 'query', run, (signal) => ctx.client.status(taskId, { signal }));
      if (!outcome.ok && outcome.stopped) return 'stopped';
      polls++;
      const pollMs = ctx.clock.now() - submittedAt;
      if (!outcome.ok) {
        if (retries.fails(outcome.verdict)) return failTask(ctx, run, 'poll', outcome.error);
        delay = retries.delayMs(retryAfterOf(outcome.error));
        continue;
      }
      retries.succeeded();
      const status = outcome.value;
      const complete = status.status === 'COMPLETED';
      const ended = complete || status.status === 'FAILED' || status.status === 'CANCELED';
      if (resumed && polls === 1 && ended) ctx.live.settledWhileAway++;
      if (!ended) running.confirmed();
      // An early (urgent) first poll says nothing about where the quantile should sit.
      if (polls === 1 && !resumed && !urgentAtStart)
        planner.observeFirstPoll(bucket, seconds, pollMs, complete);
      if (complete) {
        if (!resumed) planner.observeCompletion(bucket, seconds, previousPollMs, pollMs);
        // The provider's slot is free the moment it says COMPLETED: the next task need not wait for the result.
        running.done();
        run.providerDone = true;
        return 'next';
      }
      if (ended) return providerFailed(run, ctx, status.status, status.message);
      if (status.status === 'UNKNOWN') {
        ctx.logger.warn(
          { key: task.key, taskId, rawStatus: status.rawStatus },
          'undocumented task status; still polling',
        );
      }
      ctx.live.set(task.key, status.status === 'PENDING' ? 'queued' : 'running');
      if (status.progress !== undefined) ctx.live.setProgress(task.key, status.progress);
      if (elapsed > ctx.taskTimeoutMs) {
        ctx.append({ t: 'stalled', key: task.key, at: new Date().toISOString() });
        ctx.live.park(task.key, 'stalled');
        ctx.logger.warn({ key: task.key, taskId, elapsedMs: elapsed }, 'task stalled past the task timeout');
        return 'wait';
      }
      previousPollMs = pollMs;
      if (
        status.status === 'RUNNING' &&
        status.progress !== undefined &&
        status.progress > 0 &&
        status.progress < 100
      ) {
        planner.sawProgress();
      }
      delay = planner.nextDelayMs({
        bucket,
        seconds,
        elapsedMs: pollMs,
        polls,
        progress: status.progress,
        queued: status.status === 'PENDING',
        urgent: ctx.inFlight.waiting > 0,
      });
    }
  } finally {
    releaseScout?.();
  }
}

/** The provider says FAILED or CANCELED: --retry-failed sends the task again; otherwise it fails. */
function providerFailed(
  run: TaskRun,
  ctx: StageContext,
  status: string,
  message: string | undefined,
): 'next' | 'wait' {
  const at = new Date().toISOString();
  if (run.retrying) {
    run.retrying = false;
    ctx.append({ t: 'reopened', key: run.task.key, at, reason: 'resubmit-failed' });
    return 'next';
  }
  ctx.append({
    t: 'failed',
    key: run.task.key,
    at,
    stage: 'provider',
    error: {
      code: 'E_TASK_FAILED',
      message: `the provider reports the task ${status}${message ? `: ${message}` : ''}`,
      retryable: false,
    },
    attempts: ctx.live.attemptsOf(run.task),
  });
  return 'wait';
}
