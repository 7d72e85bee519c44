import { join } from 'node:path';

/**
 * Files the scheduler keeps in a job's history root besides `index.json`/`index.html`/`latest`: its own
 * JSON-lines log, and a private directory with its lock and the cache of earlier runs' outcomes.
 */
export function schedulerPaths(root: string) {
  const dir = join(root, '.schedule');
  return {
    /** Private directory; its `state/lock.json` is the scheduler's lock on this history root. */
    dir,
    /** Cache of which keys earlier run directories hold (rebuilt from them when missing). */
    done: join(dir, 'done.json'),
    log: join(root, 'scheduler.log'),
  };
}
