import type { RunMeta, TaskTimings } from './types.js';

/** Milliseconds since the epoch, or undefined for a missing or unparsable time. */
export function ms(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** Milliseconds from `from` to `to`, when both are known and in order. */
export function span(from: string | undefined, to: string | undefined): number | undefined {
  const a = ms(from);
  const b = ms(to);
  return a === undefined || b === undefined || b < a ? undefined : b - a;
}

/** The run's wall time so far: to its end, or to the last update while it is still going. */
export function wallMs(run: Pick<RunMeta, 'startedAt' | 'finishedAt' | 'updatedAt'>): number | undefined {
  return span(run.startedAt, run.finishedAt ?? run.updatedAt);
}

/** The task's time from first submission to its last recorded step. */
export function taskMs(timings: TaskTimings): number | undefined {
  return span(timings.submittedAt ?? timings.queuedAt, timings.downloadedAt ?? timings.completedAt);
}
