import type { JournalRecord } from './records.js';
import type { RunState } from './run-state.js';

/**
 * Where a run's state lives. The runner only sees this interface, so a second backend (SQLite, a remote store)
 * can be added without touching it. Every implementation must honour: records are applied to `state` at
 * `append` time, `appendDurable` resolves only when the record (and every record before it) would survive a
 * crash, and `replay` of what was made durable reproduces `state`.
 */
export interface StateStore {
  /** The materialized state, including records appended but not yet durable. */
  readonly state: RunState;
  /** Append a record; it becomes durable with the next group commit. */
  append(record: JournalRecord): void;
  /** Append a record and wait until it is durable (used for the submit intent, before the POST leaves). */
  appendDurable(record: JournalRecord): Promise<void>;
  /** Wait until everything appended so far is durable. */
  flush(): Promise<void>;
  /** Fold the journal into a snapshot and start a fresh journal. */
  compact(): Promise<void>;
  /** Flush and release file handles. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Header fields for a new directory. */
  create?: { job: string; manifestHash: string; tool: string };
  /**
   * Accept a journal damaged before its last line: keep every record that passes its checksum, pass over the
   * damaged lines, and keep the damaged journal beside the new one. @default false
   */
  salvage?: boolean;
  /**
   * Told which lines a salvage passed over (1-based), where the damaged journal was kept, and the ids of the tasks
   * made `unknown` because a damaged line may have been their intent to submit.
   */
  onSalvaged?: (info: { skippedLines: number[]; keptAt: string; unknown: string[] }) => void;
  /** Compact when the journal exceeds this many bytes. @default 64 MiB */
  compactBytes?: number;
  /** How long non-durable appends may wait to be grouped into one write + fsync. @default 25 */
  groupWindowMs?: number;
}
