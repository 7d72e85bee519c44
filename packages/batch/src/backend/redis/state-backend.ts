import { BatchError } from '../../errors.js';
import { openIntents, type StateBackend } from '../../state/backend.js';
import { connectRedis, redisError } from './connection.js';
import { jobIdOf, QUEUE_NAME, RedisKeys } from './keys.js';
import { readRunLog } from './run.js';
import type { BackendFile } from './run-dir.js';
import { parseRedisUrl, type RedisAddress } from './url.js';

/**
 * Where to reach the run's Redis: its backend file's address, with the credentials of `FLF2V_BACKEND` when that
 * names the same server (the file never holds credentials).
 */
export function addressOf(file: BackendFile, env = process.env): RedisAddress {
  const address = parseRedisUrl(file.backend);
  const given = env.FLF2V_BACKEND ? parseRedisUrl(env.FLF2V_BACKEND) : undefined;
  return given && given.display === address.display ? given : address;
}

/** The Redis backend as `flf2v status`, `report`, `film` and the scheduler see a run directory of it. */
export function redisStateBackend(file: BackendFile): StateBackend {
  const keys = new RedisKeys(file.fingerprint);
  const withRedis = async <T>(use: (redis: ReturnType<typeof connectRedis>) => Promise<T>): Promise<T> => {
    const address = addressOf(file);
    const redis = connectRedis(address, { name: 'flf2v:read' });
    try {
      return await use(redis);
    } catch (error) {
      // Redis down: say so, and where, rather than what the client's retries ran into.
      throw redis.status === 'ready' ? error : redisError(redis, address, `reading run ${file.runId}`, error);
    } finally {
      redis.disconnect();
    }
  };
  return {
    where: `${file.backend}, run ${file.runId}, for the workers of key ${file.fingerprint}`,
    async open() {
      throw new BatchError(
        'E_USAGE',
        `this run's state is in Redis (${file.backend}, run ${file.runId}): workers drive it — flf2v worker --backend ${file.backend}, or flf2v run MANIFEST --backend ${file.backend} --out DIR`,
      );
    },
    read: (_dir) => withRedis((redis) => readRunLog(redis, keys, file.runId)),
    holds: async () => true,
    stamp: (_dir) =>
      withRedis(async (redis) => {
        const [open, length] = await Promise.all([
          redis.hget(keys.run(file.runId), 'open'),
          redis.llen(keys.runLog(file.runId)),
        ]);
        return `${open}|${length}`;
      }),
    runner: async () => undefined,
    settled: () =>
      withRedis(async (redis) => Number((await redis.hget(keys.run(file.runId), 'open')) ?? '0') === 0),
    // A worker holds a task's job by BullMQ's lock, renewed while it lives: an open intent under a held lock is a
    // submit on the wire; without one, the worker died and the next one to take the job settles it as unknown.
    async submitting(_dir, state) {
      const open = openIntents(state);
      if (open.length === 0) return new Set<string>();
      const held = await withRedis((redis) =>
        redis.mget(open.map((key) => `${keys.prefix}:${QUEUE_NAME}:${jobIdOf(file.runId, key)}:lock`)),
      );
      return new Set(open.filter((_, i) => held[i] !== null));
    },
  };
}
