import type { TaskSummary, Totals } from './types.js';

/** Counts tasks by outcome; `tasks` is the total. */
export function computeTotals(tasks: readonly Pick<TaskSummary, 'status'>[]): Totals {
  const totals: Totals = { tasks: tasks.length, succeeded: 0, failed: 0, pending: 0, unknown: 0 };
  for (const task of tasks) totals[task.status] += 1;
  return totals;
}
