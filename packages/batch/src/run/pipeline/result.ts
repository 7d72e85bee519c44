import { Flf2vError } from '@flf2v/core/rules';
import { call, failTask, retryAfterOf } from './call.js';
import type { Stage } from './context.js';

/**
 * Result: ask the provider for a finished task's video URLs — after the poll saw it complete, and again whenever
 * the URLs at hand may be stale (recorded by an earlier session, refused, or on a host that keeps failing). A
 * result query never resubmits anything.
 */
export const resultStage: Stage = {
  name: 'result',
  accepts: (run) =>
    (run.task.phase === 'submitted' && run.providerDone) ||
    (run.task.phase === 'completed' && !run.urlsFresh),
  async run(run, ctx) {
    const task = run.task;
    const taskId = task.taskId!;
    const retries = ctx.retries(true);
    for (;;) {
      if (ctx.stopping()) return 'stopped';
      const outcome = await call(ctx, 'query', run, (signal) => ctx.client.result(taskId, { signal }));
      if (!outcome.ok && outcome.stopped) return 'stopped';
      if (outcome.ok && outcome.value.urls.length > 0) {
        run.urlsFresh = true;
        ctx.append({
          t: 'completed',
          key: task.key,
          taskId,
          urls: outcome.value.urls,
          at: new Date().toISOString(),
          attempts: ctx.live.attemptsOf(task),
        });
        return 'next';
      }
      const error = outcome.ok
        ? new Flf2vError('E_BAD_RESPONSE', 'the result has no video URLs', { retryable: true })
        : outcome.error;
      if (retries.fails(outcome.ok ? 'broken' : outcome.verdict)) return failTask(ctx, run, 'result', error);
      if (!(await ctx.pause(retries.delayMs(retryAfterOf(error))))) return 'stopped';
    }
  },
};
