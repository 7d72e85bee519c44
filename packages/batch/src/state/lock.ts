import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BatchError } from '../errors.js';

/**
 * One runner per run directory. The lock is a file created with O_EXCL holding the holder's pid and host; the
 * holder touches it every `staleMs / 4` so that a lock left by a crashed runner can be recognised: on this host
 * by its pid being gone, on another host (a shared drive) by its age. A live process on this host always keeps
 * its lock, however old — a laptop that slept must not find its run taken over when it wakes.
 */

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface RunLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
}

export interface LockOptions {
  command: string;
  /** A lock from another host untouched for this long is stale. @default 120_000 */
  staleMs?: number;
}

/** A lock from another host untouched for this long is stale (the holder touches it every quarter of it). */
const DEFAULT_STALE_MS = 120_000;

export function lockPath(dir: string): string {
  return join(dir, 'state', 'lock.json');
}

export async function readLock(dir: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(lockPath(dir), 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An unreadable lock this old is debris (locks are written whole, see `acquireLock`), not a live holder. */
const UNREADABLE_GRACE_MS = 5000;

async function isStale(path: string, holder: LockHolder | undefined, staleMs: number): Promise<boolean> {
  if (!holder || typeof holder.pid !== 'number') {
    const info = await stat(path).catch(() => undefined);
    return !info || Date.now() - info.mtimeMs > UNREADABLE_GRACE_MS;
  }
  if (holder.host === hostname()) return !processAlive(holder.pid);
  const info = await stat(path).catch(() => undefined);
  return !info || Date.now() - info.mtimeMs > staleMs;
}

/**
 * The runner holding `dir` right now, if any: a lock whose holder is alive (on this host) or fresh (from another
 * host, on a shared drive). A crashed runner's lock is not a runner. Read-only.
 */
export async function liveHolder(dir: string, staleMs = DEFAULT_STALE_MS): Promise<LockHolder | undefined> {
  const holder = await readLock(dir);
  if (!holder || (await isStale(lockPath(dir), holder, staleMs))) return undefined;
  return holder;
}

export function describeHolder(dir: string, holder: LockHolder | undefined): string {
  if (!holder) return `${dir} is locked by another flf2v process`;
  return (
    `${dir} is in use by pid ${holder.pid} on ${holder.host} since ${holder.startedAt} (${holder.command}). ` +
    `Wait for it to finish, or stop it; if that process is gone, delete ${lockPath(dir)}`
  );
}

export async function acquireLock(dir: string, options: LockOptions): Promise<RunLock> {
  const path = lockPath(dir);
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  await mkdir(join(dir, 'state'), { recursive: true });
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: options.command,
  };
  // The holder is written to a temp file first and link()ed into place, which fails if the lock exists: the
  // lock file therefore never exists half-written, even if this process is killed at any instruction.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(holder));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    return await takeLock(dir, path, tmp, holder, staleMs);
  } finally {
    await rm(tmp, { force: true });
  }
}

async function takeLock(
  dir: string,
  path: string,
  tmp: string,
  holder: LockHolder,
  staleMs: number,
): Promise<RunLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await placeLock(tmp, path, holder);
      return startHeartbeat(path, holder, staleMs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = await readLock(dir);
    if (!(await isStale(path, current, staleMs))) {
      throw new BatchError('E_LOCKED', describeHolder(dir, current));
    }
    // Break the stale lock by renaming it aside; if another process raced us and already took over, the
    // file we moved is its fresh lock, so put it back and let it win.
    const aside = `${path}.stale-${process.pid}-${attempt}`;
    try {
      await rename(path, aside);
    } catch {
      continue;
    }
    const moved = await readFile(aside, 'utf8').catch(() => '');
    if (current && !moved.includes(`"startedAt":"${current.startedAt}"`)) {
      await rename(aside, path).catch(() => {});
      continue;
    }
    await rm(aside, { force: true });
  }
  throw new BatchError('E_LOCKED', describeHolder(dir, await readLock(dir)));
}

/** link() the prepared holder into place; where hard links are not supported, create the file exclusively. */
async function placeLock(tmp: string, path: string, holder: LockHolder): Promise<void> {
  try {
    await link(tmp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(JSON.stringify(holder));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function ours(content: string, holder: LockHolder): boolean {
  return content.includes(`"pid":${holder.pid},`) && content.includes(`"startedAt":"${holder.startedAt}"`);
}

function startHeartbeat(path: string, holder: LockHolder, staleMs: number): RunLock {
  const timer = setInterval(
    () => {
      const now = new Date();
      void utimes(path, now, now).catch(() => {});
    },
    Math.max(1000, staleMs / 4),
  );
  timer.unref();
  // A process that leaves through process.exit() (a second Ctrl-C, a fatal error elsewhere) still gives the
  // lock back, so the next run does not have to prove the holder dead. Only kill -9 and power loss leave it.
  const onExit = () => {
    try {
      if (ours(readFileSync(path, 'utf8'), holder)) rmSync(path, { force: true });
    } catch {
      // Nothing to give back.
    }
  };
  process.once('exit', onExit);
  let released = false;
  return {
    holder,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      process.off('exit', onExit);
      // Only remove the lock if it is still ours.
      const current = await readFile(path, 'utf8').catch(() => '');
      if (ours(current, holder)) await rm(path, { force: true });
    },
  };
}
