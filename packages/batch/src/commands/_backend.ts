import { homedir } from 'node:os';
import { join } from 'node:path';
import { isFlf2vError } from '@flf2v/core';
import type { RedisAddress } from '../backend/redis/url.js';
import { parseRedisUrl } from '../backend/redis/url.js';
import { usageError } from '../errors.js';
import { exitCodeFor } from '../exit-codes.js';
import { formatLocation } from '../manifest/location.js';
import { takeOf } from '../manifest/take.js';
import type { Plan } from '../manifest/types.js';
import { defaultCacheDir } from '../run/upload-cache.js';
import { createFileLogger, type FileLogger } from '../util/logger.js';

/** What every `--backend` command checks first (before anything is read or sent). */
export function backendOf(flags: {
  backend?: string;
  simulator?: boolean;
  simulatorConfig?: string;
  maxVideos?: number;
  retake?: readonly string[];
}): RedisAddress {
  if (!flags.backend) throw usageError('--backend redis://HOST:PORT[/DB] is required');
  if (flags.simulator || flags.simulatorConfig) {
    throw usageError(
      '--simulator is not for the Redis backend: start one (flf2v simulator --port 8787) and point BAICAI_BASE_URL at it',
    );
  }
  if (flags.maxVideos !== undefined) throw usageError('--max-videos is not supported with --backend (yet)');
  if (flags.retake !== undefined) throw usageError('--retake is not supported with --backend (yet)');
  return parseRedisUrl(flags.backend);
}

/**
 * Takes are not carried by the Redis backend yet (its queue journals a task without its take): refuse a plan with
 * a take above 1 before anything is queued.
 */
export function refuseTakes(plan: Plan): void {
  const task = plan.tasks.find((t) => takeOf(t) > 1);
  if (task) {
    throw usageError(
      `take ${takeOf(task)} of ${task.id} (${formatLocation(task.source)}): takes are not supported with --backend (yet); run it without --backend`,
    );
  }
}

/** A worker's log: JSON lines under the cache directory (`logs/worker-<time>-<pid>.jsonl`), pretty on stderr with --verbose. */
export function workerLogger(options: { verbose?: boolean; secrets: string[] }): FileLogger {
  const dir = join(
    process.env.FLF2V_CACHE_DIR ? defaultCacheDir() : join(homedir(), '.cache', 'flf2v'),
    'logs',
  );
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return createFileLogger({
    file: join(dir, `worker-${stamp}-${process.pid}.jsonl`),
    verbose: options.verbose,
    pretty: options.verbose,
    secrets: options.secrets,
  });
}

/**
 * A worker that could not start (`RedisWorker.start` threw): say the error as the CLI does and exit at once. It
 * leaves commands behind on BullMQ's connections, which would hold the process for their timeout and may fail
 * after it with nobody listening (an uncaught error, exit 1). Anything but a Flf2vError is rethrown.
 */
export function exitOnStartFailure(error: unknown): never {
  if (!isFlf2vError(error)) throw error;
  process.stderr.write(`flf2v: ${error.message} [${error.code}]\n`);
  process.exit(exitCodeFor(error.code));
}
