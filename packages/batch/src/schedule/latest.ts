import { readFile, rename, rm, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { relativeToRoot } from './out-dir.js';

/**
 * The history root's pointer to the most recent run: `latest` (a symlink, so `latest/report.html` opens the
 * newest report) and `latest.json` (always written: one contract for scripts, and the pointer on file systems
 * without symlinks). The symlink is replaced by renaming a fresh one over it, so it never dangles mid-update.
 */

export const LATEST = { link: 'latest', json: 'latest.json' } as const;

export interface LatestPointer {
  schemaVersion: 1;
  /** Relative to the history root, `/`-separated. */
  runDir: string;
  /** The firing's id in `index.json`. */
  id: string;
  at: string;
}

/** Point `latest` at `runDir`; returns whether the symlink could be made (latest.json is written either way). */
export async function pointLatest(root: string, runDir: string, id: string): Promise<{ symlink: boolean }> {
  const pointer: LatestPointer = {
    schemaVersion: 1,
    runDir: relativeToRoot(root, runDir),
    id,
    at: new Date().toISOString(),
  };
  await writeFileAtomic(join(root, LATEST.json), `${JSON.stringify(pointer, null, 2)}\n`, { durable: false });
  const tmp = join(root, `.latest-${process.pid}`);
  try {
    await rm(tmp, { force: true });
    // Windows makes directory junctions without privileges, but only to absolute targets.
    if (process.platform === 'win32') await symlink(runDir, tmp, 'junction');
    else await symlink(relative(root, runDir) || '.', tmp, 'dir');
    await rename(tmp, join(root, LATEST.link));
    return { symlink: true };
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
    return { symlink: false };
  }
}

export async function readLatest(root: string): Promise<LatestPointer | undefined> {
  try {
    return JSON.parse(await readFile(join(root, LATEST.json), 'utf8')) as LatestPointer;
  } catch {
    return undefined;
  }
}
