import { ApiError, type Flf2vError } from '@flf2v/core/rules';
import { type ErrorCode, internalError } from '../../errors.js';
import type { ErrorRecord } from '../../state/records.js';
import { type Verdict, verdictOf } from '../policy.js';
import type { CallQueue, StageContext, TaskRun } from './context.js';

/**
 * The outcome of one provider call made by a stage: the value, a stop (nothing was done; `requeue`: not now —
 * `ready` said no when the call's turn came), or a failure with the task policy's verdict on it. Fatal failures
 * never come back as an outcome: they stop the whole run (thrown).
 */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; stopped: true; requeue?: true }
  | {
      ok: false;
      stopped: false;
      error: Flf2vError<ErrorCode>;
      verdict: Exclude<Verdict, 'fatal' | 'stopped'>;
    };

const STOPPED = Object.freeze({ ok: false, stopped: true } as const);
const REQUEUE = Object.freeze({ ok: false, stopped: true, requeue: true } as const);

/**
 * The one way a stage calls the provider: through the stage's queue, counted against the task, aborted with the
 * run, and every error — thrown by the client or not — turned into a verdict of the task policy.
 *
 * @throws the error itself when its verdict is `fatal` (a wrong key, an unwritable journal, a full disk).
 */
export async function call<T>(
  ctx: StageContext,
  queue: CallQueue,
  run: TaskRun,
  send: (signal: AbortSignal) => Promise<T>,
  /** Asked when the call's turn in the queue comes, just before it is sent: false → not sent (`requeue`). */
  ready?: () => boolean,
): Promise<Outcome<T>> {
  const outcome = await ctx.queues[queue].add(async (): Promise<Outcome<T>> => {
    if (ctx.stopping()) return STOPPED;
    if (ready && !ready()) return REQUEUE;
    ctx.live.countCall(run.task);
    try {
      return { ok: true, value: await send(ctx.abortSignal) };
    } catch (thrown) {
      const error = internalError(thrown);
      const verdict = verdictOf(error.code);
      if (verdict === 'fatal') throw error;
      // Whatever a call aborted by a stop ends with, it is the stop (a submit's intent stays open: unknown).
      if (verdict === 'stopped' || ctx.abortSignal.aborted) return STOPPED;
      return { ok: false, stopped: false, error, verdict };
    }
  });
  return outcome ?? STOPPED;
}

/** The journal's form of an error. */
export function errorRecord(error: Flf2vError<ErrorCode>): ErrorRecord {
  return { code: error.code, message: error.message, retryable: error.retryable };
}

/** The `Retry-After` an error carried, as a floor for the task's own backoff. */
export function retryAfterOf(error: Flf2vError<string>): number {
  return error instanceof ApiError ? (error.retryAfterMs ?? 0) : 0;
}

/** Journal the task as failed at `stage`: it waits for --retry-failed. */
export function failTask(
  ctx: StageContext,
  run: TaskRun,
  stage: string,
  error: Flf2vError<ErrorCode>,
): 'wait' {
  ctx.append({
    t: 'failed',
    key: run.task.key,
    at: new Date().toISOString(),
    stage,
    error: errorRecord(error),
    attempts: ctx.live.attemptsOf(run.task),
  });
  ctx.logger.warn({ key: run.task.key, id: run.task.id, stage, err: errorRecord(error) }, 'task failed');
  return 'wait';
}
