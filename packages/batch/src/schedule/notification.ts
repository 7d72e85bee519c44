import { hostname } from 'node:os';
import { join } from 'node:path';
import { TOOL_VERSION } from '../version.js';
import { HISTORY_FILES } from './history.js';
import { fromRoot } from './out-dir.js';
import type { FiringState, FiringTotals, HistoryEntry, ScheduledJob, Trigger } from './types.js';

/**
 * The JSON document POSTed to a job's `notify.webhook` when a firing ends (a run, an invalid job file, or
 * nothing new to do). Versioned; paths are absolute, as seen by the machine that ran it. It carries no
 * credentials: the API key is never part of any of these values.
 */

export const NOTIFICATION_SCHEMA_VERSION = 1;

export interface FiringNotification {
  schemaVersion: typeof NOTIFICATION_SCHEMA_VERSION;
  event: 'firing.finished';
  tool: string;
  host: string;
  job: string;
  jobFile: string;
  firing: { id: string; trigger: Trigger; firedAt: string; finishedAt?: string; durationMs?: number };
  state: FiringState;
  exitCode?: number;
  runDir?: string;
  continued?: boolean;
  jobTasks?: number;
  totals?: FiringTotals;
  skipped?: HistoryEntry['skipped'];
  succeededBefore?: number;
  reports?: { json: string; html: string; junit: string };
  history: { json: string; html: string };
  error?: { code: string; message: string };
  problems?: HistoryEntry['problems'];
}

export function notificationFor(job: ScheduledJob, entry: HistoryEntry): FiringNotification {
  const root = job.placement.root;
  const note: FiringNotification = {
    schemaVersion: NOTIFICATION_SCHEMA_VERSION,
    event: 'firing.finished',
    tool: `flf2v/${TOOL_VERSION}`,
    host: hostname(),
    job: job.name,
    jobFile: job.file,
    firing: {
      id: entry.id,
      trigger: entry.trigger,
      firedAt: entry.firedAt,
      finishedAt: entry.finishedAt,
      durationMs: entry.durationMs,
    },
    state: entry.state,
    exitCode: entry.exitCode,
    history: { json: join(root, HISTORY_FILES.json), html: join(root, HISTORY_FILES.html) },
  };
  if (entry.runDir) note.runDir = fromRoot(root, entry.runDir);
  if (entry.continued) note.continued = true;
  if (entry.jobTasks !== undefined) note.jobTasks = entry.jobTasks;
  if (entry.totals) note.totals = entry.totals;
  if (entry.skipped) note.skipped = entry.skipped;
  if (entry.succeededBefore) note.succeededBefore = entry.succeededBefore;
  if (entry.reports) {
    note.reports = {
      json: fromRoot(root, entry.reports.json),
      html: fromRoot(root, entry.reports.html),
      junit: fromRoot(root, entry.reports.junit),
    };
  }
  if (entry.error) note.error = entry.error;
  if (entry.problems) note.problems = entry.problems;
  return note;
}
