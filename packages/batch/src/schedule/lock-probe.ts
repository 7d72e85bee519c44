import { isFlf2vError } from '@flf2v/core';
import { acquireLock } from '../state/lock.js';

/**
 * Whether someone is running in `dir` right now: the same lock `flf2v run` takes, tried and released at once
 * (so a crashed holder's stale lock is recognised exactly as `flf2v run` would). Returns the holder's
 * description when it is held, undefined when it is free. `dir` must exist.
 */
export async function lockHolder(dir: string, command: string): Promise<string | undefined> {
  try {
    const lock = await acquireLock(dir, { command });
    await lock.release();
    return undefined;
  } catch (error) {
    if (isFlf2vError(error) && error.code === 'E_LOCKED') return error.message;
    throw error;
  }
}
