/** Types shared by the scheduler's pieces: the job as scheduled, and the run history's format. */

/** Where a job's runs go: its history root and the run-directory template below it. */
export interface Placement {
  /** The history root (absolute): `index.json`, `index.html`, `latest`, `scheduler.log` live here. */
  root: string;
  /** Absolute run-directory template, with `{date}` and/or `{time}` (always below `root`). */
  template: string;
  /** How many path segments the run directories are below `root` (1 for `<root>/<stamp>`). */
  depth: number;
  /**
   * The template is the scheduler's own `<date>_<time>` stamp: every firing gets a directory of its own. With
   * the job's own `{date}` template, a second firing the same day continues that day's directory.
   */
  ownStamp: boolean;
}

/** A job file with a valid `schedule:`, as read when the scheduler started. */
export interface ScheduledJob {
  name: string;
  /** Absolute path of the job file. */
  file: string;
  /** The job file as the user would type it. */
  display: string;
  /** Cron expression, 5 or 6 fields. */
  schedule: string;
  /** IANA zone the schedule and `{date}`/`{time}` are read in; the machine's when absent. */
  timezone?: string;
  /** `out:` as written in the job (absolute), when it has one. */
  out?: string;
  placement: Placement;
}

/** `up-to-date`: nothing new to send, so no run directory was made. */
export type FiringState =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'interrupted'
  | 'error'
  | 'invalid'
  | 'up-to-date';

export type Trigger = 'schedule' | 'run-now';

export interface FiringTotals {
  tasks: number;
  succeeded: number;
  failed: number;
  unknown: number;
  pending: number;
}

/** One firing of a job in `index.json`. Paths are relative to the history root, with `/` separators. */
export interface HistoryEntry {
  /** `<date>_<time>` of the firing in the job's zone (`-2`, `-3`… when one is already taken). */
  id: string;
  trigger: Trigger;
  firedAt: string;
  finishedAt?: string;
  durationMs?: number;
  state: FiringState;
  /** The exit code `flf2v run` would have given this run (0, 1, 2 invalid, 3 set-up error, 130 interrupted). */
  exitCode?: number;
  runDir?: string;
  /** This firing continued the directory of an earlier, interrupted run instead of starting a new one. */
  continued?: boolean;
  /** `--full`: earlier runs were ignored. */
  full?: boolean;
  reports?: { json: string; html: string; junit: string };
  /** Tasks in the job file at this firing. */
  jobTasks?: number;
  /** Tasks of this run (after the incremental filter), by outcome. */
  totals?: FiringTotals;
  /** Tasks of the job file left out of this run because of earlier runs of the job. */
  skipped?: {
    /** Succeeded in an earlier run: not redone. */
    succeededEarlier: number;
    /** Sent in an earlier run that has no final outcome for them (unknown, stalled, interrupted): not re-sent. */
    heldEarlier: number;
  };
  /**
   * Tasks of this run that had already succeeded in its directory before this firing (a continued run, or a
   * second firing the same day with a `{date}` directory): counted in `totals`, but not new.
   */
  succeededBefore?: number;
  /** Later firings skipped because this run was still going. */
  skippedFirings?: number;
  /** An invalid firing's manifest problems (the first ones; `errors`/`warnings` count them all). */
  problems?: { errors: number; warnings: number; messages: string[] };
  error?: { code: string; message: string };
}

export const HISTORY_SCHEMA_VERSION = 1;

/** `index.json` in a job's history root. */
export interface HistoryIndex {
  schemaVersion: typeof HISTORY_SCHEMA_VERSION;
  job: string;
  /** The job file (absolute). */
  jobFile: string;
  updatedAt: string;
  /** Oldest first. */
  runs: HistoryEntry[];
}
