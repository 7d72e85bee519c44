import { CODE } from './_codes.js';
import { requireKey, sendBusinessError, sendOk, sendRateLimited } from './_endpoint.js';
import type { Exchange } from './_respond.js';
import type { SimState } from './_state.js';
import type { Task } from './_tasks.js';

/** `GET /v1/comfyui/tasks/{id}/status` and `…/result`. */
export function handleQuery(kind: 'status' | 'result', taskId: string) {
  return (sim: SimState, ex: Exchange): void => {
    const key = requireKey(sim, ex);
    if (key === undefined) return;
    const now = sim.now();
    const waitMs = sim.takeLimit('query', key, now);
    if (waitMs > 0) {
      sendRateLimited(sim, ex, waitMs, sim.opts.responses.retryAfterFormat, CODE.RATE_LIMITED);
      return;
    }
    const task = sim.tasks.get(taskId);
    // Another key's task is as invisible as one that never existed.
    if (task === undefined || task.key !== key) {
      sim.ledger.query(kind, undefined);
      sendBusinessError(sim, ex, CODE.TASK_NOT_FOUND, `task not found: ${taskId.slice(0, 80)}`);
      return;
    }
    sim.ledger.query(kind, taskId);
    const view = sim.tasks.view(task, now);
    const { responses } = sim.opts;
    if (kind === 'status') {
      const entry: Record<string, unknown> = {
        status: view.state,
        progress: responses.progressStyle === 'percent' ? `${view.progress}%` : view.progress,
      };
      if (view.state === 'FAILED') entry.message = task.failMessage;
      sendOk(sim, ex, 'success', responses.statusShape === 'array' ? [entry] : entry);
      return;
    }
    if (view.state === 'FAILED') {
      sendBusinessError(sim, ex, CODE.TASK_FAILED, task.failMessage ?? 'generation failed');
      return;
    }
    if (view.state !== 'COMPLETED') {
      sendBusinessError(sim, ex, CODE.TASK_NOT_FINISHED, `task not finished: ${view.state}`);
      return;
    }
    const urls = signedUrls(sim, task, now);
    sendOk(sim, ex, 'success', responses.resultShape === 'object' ? { urls } : [{ result: { urls } }]);
  };
}

/** Fresh URLs on every result query, each valid for `urlTtlMs` from now. */
function signedUrls(sim: SimState, task: Task, now: number): string[] {
  const expiresAt = now + sim.opts.timings.urlTtlMs;
  const urls: string[] = [];
  for (let i = 0; i < task.numberOfVideos; i++) {
    const path = `/videos/${task.id}/${i}.mp4`;
    urls.push(`${sim.baseUrl}${path}?expires=${expiresAt}&sig=${sim.signer.sign(path, expiresAt)}`);
  }
  return urls;
}
