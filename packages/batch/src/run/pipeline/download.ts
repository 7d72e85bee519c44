import { join } from 'node:path';
import { TASK_POLICY } from '../policy.js';
import { videoPath } from '../video-paths.js';
import { call, failTask, retryAfterOf } from './call.js';
import type { Stage } from './context.js';

/**
 * Download: every video of a completed task, verified and written atomically by the client, each journaled the
 * moment it is on disk. The video is paid for, so a struggling provider never fails the download; a refused URL,
 * or a host that keeps struggling, sends the task back for fresh URLs (within `TASK_POLICY.urlRefreshes`).
 */
export const downloadStage: Stage = {
  name: 'download',
  accepts: (run) => run.task.phase === 'completed' && run.urlsFresh,
  async run(run, ctx) {
    const task = run.task;
    ctx.live.set(task.key, 'downloading');
    const retries = ctx.retries(true);
    let struggles = 0;
    while (task.phase === 'completed') {
      if (ctx.stopping()) return 'stopped';
      const urls = task.urls ?? [];
      const index = urls.findIndex((_, i) => !task.videos[i]);
      if (index < 0) break;
      const url = urls[index]!;
      const path = videoPath(task, index, urls.length, ctx.idOwners);
      const outcome = await call(ctx, 'download', run, (signal) =>
        ctx.client.download(url, join(ctx.outDir, path), { signal }),
      );
      if (!outcome.ok && outcome.stopped) return 'stopped';
      if (outcome.ok) {
        retries.succeeded();
        ctx.append({
          t: 'downloaded',
          key: task.key,
          index,
          path,
          url,
          sha256: outcome.value.sha256,
          bytes: outcome.value.bytes,
          at: new Date().toISOString(),
          attempts: ctx.live.attemptsOf(task),
        });
        continue;
      }
      const { error, verdict } = outcome;
      const refresh =
        verdict === 'expired' ||
        (verdict === 'struggling' && ++struggles % TASK_POLICY.refreshUrlsEvery === 0);
      if (refresh && run.urlRefreshes < TASK_POLICY.urlRefreshes) {
        run.urlRefreshes++;
        run.urlsFresh = false;
        ctx.logger.info(
          { key: task.key, taskId: task.taskId, err: error.code },
          'asking for current result URLs',
        );
        return 'next';
      }
      if (retries.fails(verdict)) return failTask(ctx, run, 'download', error);
      if (!(await ctx.pause(retries.delayMs(retryAfterOf(error))))) return 'stopped';
    }
    return 'next';
  },
};
