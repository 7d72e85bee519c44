import { displayPath } from '../manifest/location.js';
import { formatDuration } from '../util/format.js';
import type { HeldTask } from './incremental.js';
import { fromRoot } from './out-dir.js';
import type { HistoryEntry, ScheduledJob } from './types.js';

/** `2026-02-02T18:00:00Z`: when a firing happened, as printed on stderr. */
export function timeText(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/**
 * What a firing prints on stderr: one line (job, run directory, totals), then — only when something needs a
 * person — the problems of an invalid job file, or where the tasks that were not re-sent are.
 */
export function describeFiring(
  job: ScheduledJob,
  entry: HistoryEntry,
  options: { cwd: string; held?: HeldTask[] },
): string[] {
  const head = `${timeText(new Date(entry.firedAt))} ${job.name}:`;
  const took = entry.durationMs === undefined ? '' : ` in ${formatDuration(entry.durationMs)}`;
  const earlier = entry.skipped?.succeededEarlier ? `, ${entry.skipped.succeededEarlier} done earlier` : '';
  const lines: string[] = [];
  switch (entry.state) {
    case 'invalid': {
      const p = entry.problems!;
      lines.push(`${head} ${job.display} is invalid (${p.errors} error(s)); nothing sent`);
      for (const m of p.messages.slice(0, 10)) lines.push(`  ${m}`);
      if (p.errors + p.warnings > 10)
        lines.push(`  … and more in ${displayPath(job.placement.root, options.cwd)}/scheduler.log`);
      break;
    }
    case 'up-to-date':
      lines.push(`${head} nothing new (${entry.jobTasks ?? 0} task(s) in the job${earlier})`);
      break;
    default: {
      const dir = entry.runDir ? displayPath(fromRoot(job.placement.root, entry.runDir), options.cwd) : '-';
      const t = entry.totals;
      const parts: string[] = [];
      if (t) {
        parts.push(`${t.succeeded} succeeded`);
        if (t.failed) parts.push(`${t.failed} failed`);
        if (t.unknown) parts.push(`${t.unknown} unknown`);
        if (t.pending) parts.push(`${t.pending} pending`);
      }
      const here = entry.succeededBefore ? ` (${entry.succeededBefore} of them before this firing)` : '';
      const totals = t ? `${parts.join(', ')} of ${t.tasks} task(s)${here}${earlier}` : entry.state;
      const state = entry.state === 'succeeded' ? '' : ` [${entry.state}, exit ${entry.exitCode ?? '?'}]`;
      lines.push(`${head} ${dir}: ${totals}${took}${state}`);
      if (entry.error) lines.push(`  ${entry.error.message} [${entry.error.code}]`);
    }
  }
  const held = options.held ?? [];
  if (held.length > 0) {
    const dirs = [...new Set(held.map((h) => h.dir))].map((d) =>
      displayPath(fromRoot(job.placement.root, d), options.cwd),
    );
    lines.push(
      `  ${held.length} task(s) were sent by an earlier run that has no outcome for them; they are not sent again ` +
        `(see flf2v status ${dirs.join(', ')}; --full would send them again)`,
    );
  }
  return lines;
}
