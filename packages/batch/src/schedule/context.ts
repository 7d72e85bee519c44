import type { FileLogger } from '../util/logger.js';
import type { DoneIndex } from './done-index.js';
import type { History } from './history.js';
import type { ScheduledJob } from './types.js';

/** What every firing of every job shares: where requests go, the command-line settings, the stop signals. */
export interface SchedulerContext {
  apiKey: string;
  baseUrl: string;
  /** `baseUrl` is the embedded simulator. */
  simulator: boolean;
  /** Command-line limits (they override the job file's). */
  limits: { submitRpm?: number; queryRpm?: number; maxInFlight?: number };
  /** `--full`: ignore earlier runs. */
  full: boolean;
  verbose: boolean;
  quiet: boolean;
  /** Display paths are relative to this directory. */
  cwd: string;
  /** First SIGINT/SIGTERM: no new firings; running runs stop cleanly (resumable). */
  stop: AbortSignal;
  /** Second signal: stop at once. */
  hard: AbortSignal;
  /** One line to stderr. */
  print(line: string): void;
}

/** A scheduled job with its history, its cache of earlier runs, its log, and what it is doing right now. */
export interface JobSlot {
  job: ScheduledJob;
  history: History;
  done: DoneIndex;
  log: FileLogger;
  /** The firing in progress: its history entry and run directory once it has them. */
  busy?: { entryId?: string; runDir?: string };
  /** Webhook deliveries still going (awaited before the scheduler exits). */
  deliveries: Set<Promise<void>>;
}
