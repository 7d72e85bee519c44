import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { schedulerPaths } from './_paths.js';
import { relativeToRoot } from './out-dir.js';
import { readRunOutcomes, stateStamp } from './run-outcomes.js';

/**
 * A per-job cache of what earlier run directories hold (keys succeeded, keys sent without an outcome), so a
 * history of hundreds of nightly runs is not replayed every night: a directory is read again only when its
 * state files changed (size or mtime) — in practice the last run, or one someone resumed by hand. The cache
 * is derived data: deleting it costs one full re-read.
 */

const DONE_SCHEMA_VERSION = 1;

interface CachedRun {
  stamp: string;
  job?: string;
  succeeded: string[];
  held: string[];
  resumable: number;
}

interface DoneFile {
  schemaVersion: number;
  runs: Record<string, CachedRun>;
}

export interface EarlierRuns {
  /** Key → the run directory (relative to the root) where it succeeded. */
  succeeded: Map<string, string>;
  /** Key → a run directory where it was sent without a final outcome. */
  held: Map<string, string>;
}

export interface RefreshResult {
  /** Directories whose state was (re)read. */
  read: string[];
  /** Directories whose state could not be read at all (with why). */
  unreadable: { dir: string; message: string }[];
}

export class DoneIndex {
  private constructor(
    private readonly root: string,
    private readonly job: string,
    private runs: Record<string, CachedRun>,
  ) {}

  static async open(root: string, job: string): Promise<DoneIndex> {
    let runs: Record<string, CachedRun> = {};
    try {
      const file = JSON.parse(await readFile(schedulerPaths(root).done, 'utf8')) as DoneFile;
      if (file.schemaVersion === DONE_SCHEMA_VERSION && file.runs && typeof file.runs === 'object')
        runs = file.runs;
    } catch {
      // Missing or damaged: rebuilt from the run directories on the first refresh.
    }
    return new DoneIndex(root, job, runs);
  }

  /** Bring the cache in line with `runDirs` (absolute): read changed directories, forget vanished ones. */
  async refresh(runDirs: string[]): Promise<RefreshResult> {
    const result: RefreshResult = { read: [], unreadable: [] };
    const next: Record<string, CachedRun> = {};
    let changed = false;
    for (const dir of runDirs) {
      const rel = relativeToRoot(this.root, dir);
      const stamp = await stateStamp(dir);
      if (stamp === undefined) continue;
      const cached = this.runs[rel];
      if (cached?.stamp === stamp) {
        next[rel] = cached;
        continue;
      }
      changed = true;
      try {
        const outcomes = await readRunOutcomes(dir);
        next[rel] = { stamp, ...outcomes };
        result.read.push(rel);
      } catch (error) {
        // Keep what we knew of it rather than forget keys that may have been paid for.
        if (cached) next[rel] = cached;
        result.unreadable.push({ dir: rel, message: error instanceof Error ? error.message : String(error) });
      }
    }
    if (Object.keys(this.runs).some((rel) => !(rel in next))) changed = true;
    this.runs = next;
    if (changed) await this.save();
    return result;
  }

  /** What the job's run directories other than `exceptDir` (relative) hold. */
  earlier(exceptDir?: string): EarlierRuns {
    const out: EarlierRuns = { succeeded: new Map(), held: new Map() };
    for (const [rel, run] of Object.entries(this.runs)) {
      if (rel === exceptDir || (run.job !== undefined && run.job !== this.job)) continue;
      for (const key of run.succeeded) if (!out.succeeded.has(key)) out.succeeded.set(key, rel);
      for (const key of run.held) if (!out.held.has(key)) out.held.set(key, rel);
    }
    for (const key of out.succeeded.keys()) out.held.delete(key);
    return out;
  }

  /** Tasks one run directory (relative) can still finish by itself, as last read. */
  resumableIn(dir: string): number {
    return this.runs[dir]?.resumable ?? 0;
  }

  /** Keys that succeeded in one run directory (relative), as last read. */
  succeededIn(dir: string): Set<string> {
    return new Set(this.runs[dir]?.succeeded ?? []);
  }

  private async save(): Promise<void> {
    const paths = schedulerPaths(this.root);
    await mkdir(paths.dir, { recursive: true });
    const file: DoneFile = { schemaVersion: DONE_SCHEMA_VERSION, runs: this.runs };
    await writeFileAtomic(paths.done, JSON.stringify(file), { durable: false });
  }
}
