import type { Plan, PlannedTask } from '../manifest/types.js';
import type { EarlierRuns } from './done-index.js';

/**
 * Incremental runs: a firing's plan keeps only the tasks that no earlier run of the job has dealt with. A task
 * is identified by its key (a hash of what is sent), so rows appended to the CSV are new and rows generated on
 * an earlier night are not, wherever they sit in the file. Left out:
 * - tasks that succeeded in an earlier run (not redone);
 * - tasks sent in an earlier run that has no final outcome for them (unknown, stalled, interrupted): a new run
 *   directory would send them a second time, so they stay with the directory that sent them.
 * Failed tasks are not left out: the next firing tries them again.
 */

export interface HeldTask {
  id: string;
  key: string;
  /** The earlier run directory (relative to the history root) that sent it. */
  dir: string;
}

export interface IncrementalResult {
  plan: Plan;
  succeededEarlier: number;
  heldEarlier: HeldTask[];
}

export function filterPlan(plan: Plan, earlier: EarlierRuns): IncrementalResult {
  const kept: PlannedTask[] = [];
  const heldEarlier: HeldTask[] = [];
  let succeededEarlier = 0;
  for (const task of plan.tasks) {
    if (earlier.succeeded.has(task.key)) succeededEarlier++;
    else {
      const dir = earlier.held.get(task.key);
      if (dir === undefined) kept.push(task);
      else heldEarlier.push({ id: task.id, key: task.key, dir });
    }
  }
  if (kept.length === plan.tasks.length) return { plan, succeededEarlier, heldEarlier };
  let videos = 0;
  let seconds = 0;
  for (const task of kept) {
    videos += task.params.number_of_videos;
    seconds += task.params.number_of_videos * task.params.duration;
  }
  return {
    plan: { ...plan, tasks: kept, summary: { ...plan.summary, tasks: kept.length, videos, seconds } },
    succeededEarlier,
    heldEarlier,
  };
}
