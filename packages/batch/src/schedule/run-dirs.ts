import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { backendFor } from '../backend/index.js';
import type { Placement } from './types.js';

/** Names inside a run directory that are never run directories themselves. */
const NOT_RUNS = new Set(['state', 'videos', 'logs']);

/**
 * The run directories of a job: those at the depth of its run-directory template below the history root that
 * hold run state, plus the root itself when it is one (`flf2v run` without `--out` wrote there). Only these
 * count as "earlier runs of the job"; whose job a directory belongs to is checked from its journal header.
 */
export async function findRunDirs(placement: Placement): Promise<string[]> {
  let level = [placement.root];
  for (let d = 0; d < placement.depth; d++) {
    const next: string[] = [];
    for (const dir of level) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        // Dirent does not follow symlinks: `latest` is skipped here, as it should be.
        if (e.isDirectory() && !e.name.startsWith('.') && !NOT_RUNS.has(e.name)) next.push(join(dir, e.name));
      }
    }
    level = next;
  }
  const candidates = [placement.root, ...level.sort()];
  const found: string[] = [];
  for (const dir of candidates) if (await holdsState(dir)) found.push(dir);
  return found;
}

export async function holdsState(dir: string): Promise<boolean> {
  return (await backendFor(dir)).holds(dir);
}
