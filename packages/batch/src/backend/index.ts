import { fileBackend, type StateBackend } from '../state/backend.js';
import { readBackendFile } from './redis/run-dir.js';

/**
 * The backend a run directory's state lives in: Redis when the directory has a `backend.json` (written by
 * `flf2v enqueue` / `run --backend`), else the embedded file backend. Redis is loaded only then.
 */
export async function backendFor(dir: string): Promise<StateBackend> {
  const file = await readBackendFile(dir);
  if (!file) return fileBackend;
  const { redisStateBackend } = await import('./redis/state-backend.js');
  return redisStateBackend(file);
}
