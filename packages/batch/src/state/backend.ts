import { stat } from 'node:fs/promises';
import { openFileStore, replay, statePaths } from './file-store.js';
import { type LockHolder, liveHolder } from './lock.js';
import type { RunState } from './run-state.js';
import type { OpenStoreOptions, StateStore } from './store.js';

/**
 * Where a run's state lives: the one door to it. Everything outside `state/` reaches a run's state through a
 * backend — a runner session `open`s it for writing, `flf2v status`, `report` and `film` and the scheduler
 * `read` it — so a second backend is a second implementation of this interface, nothing more.
 */
export interface StateBackend {
  /**
   * Open a run's state for a runner session (the caller holds the run's lock).
   * @throws BatchError `E_JOURNAL_CORRUPT` (damaged, unless `salvage`), `E_STATE`; Flf2vError `E_LOCAL_IO`
   */
  open(dir: string, options: OpenStoreOptions): Promise<StateStore>;
  /**
   * The state as it stands, read-only: writes nothing, takes no lock, works while a runner is on it.
   * @throws BatchError `E_JOURNAL_CORRUPT`, `E_STATE`
   */
  read(dir: string): Promise<RunState>;
  /** Whether `dir` holds a run's state. */
  holds(dir: string): Promise<boolean>;
  /** A token that changes whenever the state does (for caches of what was read); undefined without state. */
  stamp(dir: string): Promise<string | undefined>;
  /** The runner working on the run right now, if any (the file backend's one runner per directory). */
  runner(dir: string): Promise<LockHolder | undefined>;
  /**
   * Whether every task of the run is settled (succeeded, failed or unknown), for a backend whose runs are worked
   * on by many processes (Redis): until then the run is `running`. Absent: the last session's end says.
   */
  settled?(dir: string): Promise<boolean>;
  /**
   * Of the tasks whose submit intent has no outcome yet (`pending` intents in `state`), the keys whose runner is
   * alive: their POST is on the wire now (pending), while the others' runner died (unknown until taken over).
   */
  submitting(dir: string, state: RunState): Promise<ReadonlySet<string>>;
  /** Where the state lives, for people (`flf2v status`); absent for the run directory's own files. */
  readonly where?: string;
}

/** Keys of the tasks of `state` with an open submit intent. */
export function openIntents(state: RunState): string[] {
  return [...state.tasks.values()].filter((t) => t.pending.length > 0).map((t) => t.key);
}

/** The embedded backend: a CRC-checked JSON-lines journal and its snapshot in `DIR/state/`, one runner per directory. */
export const fileBackend: StateBackend = {
  open: (dir, options) => openFileStore(dir, options),
  read: async (dir) => (await replay(dir)).state,
  async holds(dir) {
    const paths = statePaths(dir);
    for (const file of [paths.journal, paths.snapshot]) {
      if (
        await stat(file).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        return true;
    }
    return false;
  },
  async stamp(dir) {
    const paths = statePaths(dir);
    const parts: string[] = [];
    for (const file of [paths.snapshot, paths.journal]) {
      const info = await stat(file).catch(() => undefined);
      parts.push(info ? `${info.size}@${info.mtimeMs}` : '-');
    }
    return parts.every((p) => p === '-') ? undefined : parts.join('|');
  },
  runner: (dir) => liveHolder(dir),
  // One runner per directory: while it lives, its open intents are its submits on the wire.
  submitting: async (dir, state) => new Set((await liveHolder(dir)) ? openIntents(state) : []),
};
