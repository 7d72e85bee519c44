import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * flf2v's cache directory on this machine (uploaded frame URLs, prepared frames): `$FLF2V_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/flf2v`, else `~/.cache/flf2v`. Losing it costs work, never correctness.
 */
export function defaultCacheDir(): string {
  const env = process.env;
  if (env.FLF2V_CACHE_DIR) return env.FLF2V_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'flf2v');
}
