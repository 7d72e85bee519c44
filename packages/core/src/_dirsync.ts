import { type FileHandle, open } from 'node:fs/promises';

/**
 * Directory fsync with group commit. A rename is durable once its directory has been fsynced *after* the
 * rename. Many downloads finish into the same directory at once, and one fsync covers every rename made
 * before it started, so callers share:
 *
 * - no fsync running: start one; the caller waits for it;
 * - one running: it may have started before this caller's rename, so it does not count; the caller joins the
 *   single fsync queued to start when the running one ends (every caller arriving meanwhile shares it).
 *
 * So each caller waits for an fsync that started after its own call, and under load the directory sees about
 * one fsync per fsync-duration instead of one per file. Failures are ignored: some filesystems refuse to fsync
 * a directory, and the rename is atomic either way.
 */

async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // See above.
  } finally {
    await handle?.close().catch(() => {});
  }
}

interface DirState {
  running?: Promise<void>;
  queued?: Promise<void>;
}

const dirs = new Map<string, DirState>();

function start(dir: string, state: DirState): Promise<void> {
  const run: Promise<void> = fsyncDir(dir).finally(() => {
    if (state.running === run) state.running = undefined;
    if (!state.running && !state.queued) dirs.delete(dir);
  });
  state.running = run;
  return run;
}

export function syncDirectory(dir: string): Promise<void> {
  let state = dirs.get(dir);
  if (!state) {
    state = {};
    dirs.set(dir, state);
  }
  const running = state.running;
  if (!running) return start(dir, state);
  if (state.queued) return state.queued;
  const s = state;
  const queued = running.then(() => {
    s.queued = undefined;
    return start(dir, s);
  });
  s.queued = queued;
  return queued;
}
