import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPORT_FILES } from '@flf2v/reporter';
import { backendFor } from '../backend/index.js';
import type { TaskPhase } from '../state/run-state.js';

/**
 * What an earlier run directory says about each task, for the incremental filter: which keys succeeded there
 * (never redone), and which were sent there without a final outcome (never re-sent by a new run: the provider
 * may have them — the directory itself resumes or resolves them). Read-only: the journal is replayed, never
 * opened for writing, and no lock is taken.
 */

export interface RunOutcomes {
  /** The job named in the journal header. */
  job?: string;
  succeeded: string[];
  held: string[];
  /** Tasks the directory itself can still finish (the provider has them: poll, download): continue it. */
  resumable: number;
}

/** Phases in which a task may exist at the provider without a video on disk. */
const HELD: readonly TaskPhase[] = ['unknown', 'submitted', 'completed'];
/** Phases a session on the directory drives to the end without sending anything again. */
const RESUMABLE: readonly TaskPhase[] = ['submitted', 'completed'];

export async function readRunOutcomes(dir: string): Promise<RunOutcomes> {
  try {
    const state = await (await backendFor(dir)).read(dir);
    const out: RunOutcomes = { succeeded: [], held: [], resumable: 0 };
    if (state.header) out.job = state.header.job;
    for (const task of state.tasks.values()) {
      if (task.phase === 'succeeded') out.succeeded.push(task.key);
      else if (HELD.includes(task.phase) || task.pending.length > 0) out.held.push(task.key);
      if (RESUMABLE.includes(task.phase)) out.resumable++;
    }
    return out;
  } catch (error) {
    // A damaged journal still has its last report: better an older picture than paying twice.
    const fromReport = await readReportOutcomes(dir);
    if (fromReport) return fromReport;
    throw error;
  }
}

interface ReportLike {
  run?: { name?: string };
  tasks?: { key?: string; status?: string; taskId?: string; submissions?: number }[];
}

async function readReportOutcomes(dir: string): Promise<RunOutcomes | undefined> {
  let report: ReportLike;
  try {
    report = JSON.parse(await readFile(join(dir, REPORT_FILES.json), 'utf8')) as ReportLike;
  } catch {
    return undefined;
  }
  if (!Array.isArray(report.tasks)) return undefined;
  // A damaged journal cannot be continued, so nothing in it counts as resumable.
  const out: RunOutcomes = { succeeded: [], held: [], resumable: 0 };
  if (report.run?.name) out.job = report.run.name;
  for (const t of report.tasks) {
    if (typeof t.key !== 'string') continue;
    if (t.status === 'succeeded') out.succeeded.push(t.key);
    else if (t.status !== 'failed' && (t.taskId || (t.submissions ?? 0) > 0)) out.held.push(t.key);
  }
  return out;
}

/** Changes whenever the run state does; undefined without state. */
export async function stateStamp(dir: string): Promise<string | undefined> {
  return (await backendFor(dir)).stamp(dir);
}
