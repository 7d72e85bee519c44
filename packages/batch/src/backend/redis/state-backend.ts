import { BatchError } from '../../errors.js';
import type { StateBackend } from '../../state/backend.js';
import { connectRedis } from './connection.js';
import { RedisKeys } from './keys.js';
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
    const redis = connectRedis(addressOf(file), { name: 'flf2v:read' });
    try {
      return await use(redis);
    } finally {
      redis.disconnect();
    }
  };
  return {
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
  };
}
