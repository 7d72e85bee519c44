import { freshDir, fromRoot, runDirAt } from './out-dir.js';
import type { HistoryEntry, Placement } from './types.js';

/**
 * Which directory a firing runs in.
 * - The previous run's, when it still has tasks the provider accepted but that are not on disk yet (it was
 *   interrupted, or tasks stalled): a session there polls and downloads them. A new directory would send them
 *   a second time. Not with `--full`.
 * - Otherwise the template's directory for this firing; with the scheduler's own stamp (or `--full`) one that
 *   does not exist yet, so every such firing has a directory of its own.
 */

export interface RunDirChoice {
  runDir: string;
  /** The previous run's directory, continued. */
  continued: boolean;
}

export async function chooseRunDir(o: {
  placement: Placement;
  timeZone?: string;
  at: Date;
  full: boolean;
  /** The most recent firing that made a run directory. */
  previous?: HistoryEntry;
  /** How many tasks a run directory (relative to the root) can still finish by itself. */
  resumableIn: (dir: string) => number;
}): Promise<RunDirChoice> {
  const prev = o.previous?.runDir;
  if (!o.full && prev !== undefined && o.resumableIn(prev) > 0) {
    return { runDir: fromRoot(o.placement.root, prev), continued: true };
  }
  const runDir = runDirAt(o.placement, o.at, o.timeZone);
  // --full must not land in a directory whose finished tasks the runner would then skip.
  if (o.placement.ownStamp || o.full) return { runDir: await freshDir(runDir), continued: false };
  return { runDir, continued: false };
}
