import type { TaskOutcome } from '@flf2v/reporter';
import type { RunState, TaskState } from '../state/run-state.js';

/**
 * What each task is doing right now, beyond what the journal says — the one thing the progress bar, the reports
 * refreshed during a run and the final report read of a running pipeline. The pipeline writes it; nothing else
 * does. `flf2v status` and `flf2v report` read the state alone, through an empty view.
 */
export type LiveStage =
  | 'uploading'
  | 'submitting'
  | 'queued'
  | 'running'
  | 'downloading'
  /** Waits for a later session: over the --max-videos budget. */
  | 'budget'
  /** Waits for a later session: running past --task-timeout. */
  | 'stalled';

/** Task counts for the progress line. */
export interface ProgressCounts {
  total: number;
  succeeded: number;
  failed: number;
  unknown: number;
  running: number;
  downloading: number;
  waiting: number;
  parked: number;
}

export class LiveView {
  private readonly stages = new Map<string, LiveStage>();
  private readonly progress = new Map<string, number>();
  /** Provider calls per task over all sessions: the journaled count at first use plus this session's calls. */
  private readonly calls = new Map<string, number>();
  /** Tasks that wait for a later session (`budget`, `stalled`): their stage outlives their driver. */
  private readonly parked = new Set<string>();
  /** Keys of tasks in the state that the current manifest no longer lists. */
  readonly removed = new Set<string>();
  /**
   * Resumed tasks found finished at their first poll: they finished while no session ran, so they say nothing
   * about this session's pace (the ETA leaves them out).
   */
  settledWhileAway = 0;

  set(key: string, stage: LiveStage): void {
    this.stages.set(key, stage);
  }

  /** The task waits for a later session in `stage` (shown until this session ends). */
  park(key: string, stage: 'budget' | 'stalled'): void {
    this.parked.add(key);
    this.stages.set(key, stage);
  }

  isParked(key: string): boolean {
    return this.parked.has(key);
  }

  /** The task's driver is done for this session: forget what it was doing (unless it is parked). */
  settle(key: string): void {
    if (!this.parked.has(key)) this.stages.delete(key);
    this.progress.delete(key);
  }

  stageOf(key: string): LiveStage | undefined {
    return this.stages.get(key);
  }

  /** The provider's progress figure (0–100) for a running task. */
  setProgress(key: string, percent: number): void {
    this.progress.set(key, percent);
  }

  progressOf(key: string): number | undefined {
    return this.progress.get(key);
  }

  countCall(task: TaskState): void {
    this.calls.set(task.key, this.attemptsOf(task) + 1);
  }

  /** Provider calls made for the task, all sessions. */
  attemptsOf(task: TaskState): number {
    return Math.max(task.attempts, this.calls.get(task.key) ?? 0);
  }

  /** The task's outcome as reports show it: an intent whose POST is on the wire right now is pending, not unknown. */
  outcomeOf(task: TaskState): TaskOutcome {
    switch (task.phase) {
      case 'succeeded':
        return 'succeeded';
      case 'failed':
        return 'failed';
      case 'unknown':
        return this.stages.get(task.key) === 'submitting' ? 'pending' : 'unknown';
      default:
        return 'pending';
    }
  }

  /** Counts for the progress line; removed tasks count only while this session still finishes them. */
  counts(state: RunState): ProgressCounts {
    const c: ProgressCounts = {
      total: 0,
      succeeded: 0,
      failed: 0,
      unknown: 0,
      running: 0,
      downloading: 0,
      waiting: 0,
      parked: 0,
    };
    for (const t of state.tasks.values()) {
      if (this.removed.has(t.key) && t.phase !== 'submitted' && t.phase !== 'completed') continue;
      c.total++;
      const stage = this.stages.get(t.key);
      if (stage === 'budget' || stage === 'stalled') c.parked++;
      else if (t.phase === 'submitted') c.running++;
      else if (t.phase === 'completed') c.downloading++;
      else {
        const outcome = this.outcomeOf(t);
        if (outcome === 'pending') c.waiting++;
        else c[outcome]++;
      }
    }
    return c;
  }
}
