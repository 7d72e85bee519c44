import type { SubmitResult } from '@flf2v/core';
import { ApiError, type GenerationRequest } from '@flf2v/core/rules';
import { generationRequest } from '../../manifest/identity.js';
import { call, errorRecord, failTask, retryAfterOf } from './call.js';
import type { Stage, StageContext } from './context.js';

/**
 * Submit: a planned task with its frame URLs is sent, once. The exactly-once discipline (DESIGN.md): the intent is
 * durable in the journal before the POST leaves; the provider's taskId is journaled the moment it arrives; a
 * failure after which the task may exist (`maybeCreated`) makes the task `unknown`, and it is re-sent only when
 * the user asks (--resubmit-unknown). A submit on the wire is not aborted by a stop request: aborting it would
 * turn a known outcome into an unknown one.
 *
 * Before sending: the --max-videos budget (over it, the task is parked for a later session) and an in-flight
 * slot. A failure that provably created nothing follows the task policy; a refusal of frame URLs reused from an
 * earlier session (they may have expired at the provider) sends the task back to be uploaded again, once.
 */
export const submitStage: Stage = {
  name: 'submit',
  accepts: (run) => run.task.phase === 'planned' && run.plan !== undefined && run.frameUrls !== undefined,
  async run(run, ctx) {
    const task = run.task;
    const body = generationRequest(task.params, ...run.frameUrls!);
    const retries = ctx.retries(false);
    const cost = task.params.number_of_videos;
    for (;;) {
      if (ctx.stopping()) return 'stopped';
      // Reserved before waiting for anything, so that concurrent tasks cannot all pass the check.
      if (!ctx.reserveVideos(cost)) {
        ctx.live.park(task.key, 'budget');
        return 'wait';
      }
      let spent = false;
      try {
        ctx.live.set(task.key, 'submitting');
        if (!(await ctx.inFlight.acquire(run, ctx.stopSignal))) return 'stopped';
        const reused = run.framesRechecked ? [] : ctx.frames.reused(run.plan!);
        const n = task.lastN + 1;
        const outcome = await call(
          ctx,
          'submit',
          run,
          (signal) => submitOnce(ctx, body, signal, task.key, n),
          // Slots taken before a provider cap was learned (while this waited its turn) outnumber it: give this one
          // back and queue again rather than send into a refusal.
          () => !ctx.inFlight.overCap,
        );
        if (outcome.ok) {
          spent = true;
          run.submittedAtMono = ctx.clock.now();
          ctx.append({
            t: 'submitted',
            key: task.key,
            n,
            taskId: outcome.value.taskId,
            at: new Date().toISOString(),
            attempts: ctx.live.attemptsOf(task),
          });
          // Committed now rather than with the next group: a kill in between would leave the task unknown.
          void ctx.store.flush().catch(() => {});
          ctx.logger.debug({ key: task.key, id: task.id, taskId: outcome.value.taskId, n }, 'submitted');
          return 'next';
        }
        if (outcome.stopped) {
          if (outcome.requeue) continue;
          return 'stopped';
        }
        const { error } = outcome;
        const at = new Date().toISOString();
        if (!(error instanceof ApiError) || error.maybeCreated !== false) {
          // Maybe created: never re-sent silently.
          spent = true;
          ctx.append({ t: 'unknown', key: task.key, n, at, error: errorRecord(error) });
          ctx.logger.warn(
            { key: task.key, id: task.id, err: errorRecord(error) },
            'submit outcome unknown; not re-sent',
          );
          return 'wait';
        }
        ctx.append({ t: 'not_created', key: task.key, n, at, error: errorRecord(error) });
        if (error.limit === 'concurrency') ctx.inFlight.learnCap();
        if (outcome.verdict === 'refused' && reused.length > 0 && isFrameRefusal(error.code)) {
          ctx.logger.info(
            { key: task.key, id: task.id, err: errorRecord(error) },
            'refused with frame URLs from an earlier session; uploading again',
          );
          ctx.frames.distrust(reused);
          run.frameUrls = undefined;
          run.framesRechecked = true;
          return 'next';
        }
        if (retries.fails(outcome.verdict)) return failTask(ctx, run, 'submit', error);
        ctx.logger.debug({ key: task.key, err: errorRecord(error) }, 'submit refused; will retry');
        if (!(await ctx.pause(retries.delayMs(retryAfterOf(error))))) return 'stopped';
      } finally {
        if (!spent) ctx.refundVideos(cost);
        if (task.phase !== 'submitted') ctx.inFlight.release(run);
      }
    }
  },
};

/** How a provider refuses a frame URL it no longer knows (a business error, or a 4xx on the request). */
function isFrameRefusal(code: string): boolean {
  return code === 'E_PROVIDER' || code === 'E_INVALID_REQUEST';
}

/**
 * One submit through the client, its intent made durable only once the rate gate lets the POST go (not before
 * the wait: a kill while waiting leaves the task planned, nothing sent, rather than unknown). A stop cuts the
 * wait short while no intent is open; from the intent on, the call runs to its outcome over the client's
 * retries, as a POST on the wire is never cut by a stop.
 */
async function submitOnce(
  ctx: StageContext,
  body: GenerationRequest,
  signal: AbortSignal,
  key: string,
  n: number,
): Promise<SubmitResult> {
  let open = false;
  const wait = new AbortController();
  const onStop = () => {
    if (!open) wait.abort();
  };
  ctx.stopSignal.addEventListener('abort', onStop, { once: true });
  if (ctx.stopSignal.aborted) onStop();
  try {
    return await ctx.client.submit(body, {
      signal,
      waitSignal: wait.signal,
      beforeSend: async () => {
        if (open) return;
        if (ctx.stopping()) return false;
        await ctx.store.appendDurable({ t: 'intent', key, n, at: new Date().toISOString() });
        open = true;
      },
    });
  } finally {
    ctx.stopSignal.removeEventListener('abort', onStop);
  }
}
