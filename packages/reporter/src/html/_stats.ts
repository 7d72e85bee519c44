import { ms, span, wallMs } from '../_time.js';
import type { RunSummary } from '../types.js';

/** The derived figures of the summary cards; everything here is computed from the model, nothing stored. */
export interface Overview {
  wallMs: number | undefined;
  /** Finished one way or the other: the base of the success rate. */
  settled: number;
  videos: number;
  videoBytes: number;
  /** Seconds of footage: each downloaded video lasts its request's `duration`. */
  videoSeconds: number;
  /** Submitted → completed, over tasks that completed. */
  generation: { count: number; p50?: number; p95?: number };
  requests: number;
  submissions: number;
  /** Tasks POSTed more than once (after --resubmit-unknown or --retry-failed). */
  resubmitted: number;
  /** Start and end of everything the report shows, in ms since the epoch. */
  from: number;
  to: number;
}

export function overview(summary: RunSummary): Overview {
  const { run, tasks, totals } = summary;
  let videos = 0;
  let videoBytes = 0;
  let videoSeconds = 0;
  let submissions = 0;
  let resubmitted = 0;
  const generation: number[] = [];
  let from = ms(run.startedAt) ?? Number.POSITIVE_INFINITY;
  let to = ms(run.finishedAt ?? run.updatedAt) ?? Number.NEGATIVE_INFINITY;
  for (const task of tasks) {
    videos += task.videos.length;
    for (const video of task.videos) videoBytes += video.bytes;
    videoSeconds += task.videos.length * task.request.duration;
    submissions += task.submissions;
    if (task.submissions > 1) resubmitted += 1;
    const g = span(task.timings.submittedAt, task.timings.completedAt);
    if (g !== undefined) generation.push(g);
    for (const t of Object.values(task.timings)) {
      const m = ms(t);
      if (m === undefined) continue;
      if (m < from) from = m;
      if (m > to) to = m;
    }
  }
  if (!Number.isFinite(from)) from = Date.now();
  if (!Number.isFinite(to) || to < from) to = from;
  generation.sort((a, b) => a - b);
  const r = run.requests;
  return {
    wallMs: wallMs(run),
    settled: totals.succeeded + totals.failed,
    videos,
    videoBytes,
    videoSeconds,
    generation: { count: generation.length, p50: quantile(generation, 0.5), p95: quantile(generation, 0.95) },
    requests: r.upload + r.submit + r.status + r.result + r.download,
    submissions,
    resubmitted,
    from,
    to,
  };
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
