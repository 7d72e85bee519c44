import { Redis } from 'ioredis';
import { BatchError } from '../../errors.js';
import type { RedisAddress } from './url.js';

/**
 * What Redis must be told to keep what flf2v tells it: every write on disk before it answers (an intent to
 * submit must survive a kill -9 of Redis, or a task could be paid twice), and nothing evicted when memory runs
 * short. The one line that starts it right:
 * `redis-server --appendonly yes --appendfsync always --maxmemory-policy noeviction`.
 */
export const REQUIRED_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  appendonly: 'yes',
  appendfsync: 'always',
  'maxmemory-policy': 'noeviction',
});

export interface RedisConnectOptions {
  /** For BullMQ workers and blocking commands: never give up on a command (BullMQ requires null). */
  blocking?: boolean;
  /**
   * Wait out a Redis outage up to this long (ms): a command waits for the reconnect, and fails only when it has no
   * answer by then. @default none: a command fails after three reconnect attempts (about a second)
   */
  rideThroughMs?: number;
  /** Connection name shown by CLIENT LIST (`flf2v:worker`, …). */
  name?: string;
}

/** The last connection error of each client (ECONNREFUSED, ENOTFOUND, NOAUTH…): why it cannot reach Redis. */
const lastErrors = new WeakMap<Redis, Error>();

/** A client for `address`; lazy (nothing is sent until the first command), never logs credentials. */
export function connectRedis(address: RedisAddress, options: RedisConnectOptions = {}): Redis {
  const redis = new Redis({
    host: address.host,
    port: address.port,
    db: address.db,
    username: address.username,
    password: address.password,
    connectionName: options.name,
    lazyConnect: true,
    maxRetriesPerRequest: options.blocking || options.rideThroughMs ? null : 3,
    ...(options.rideThroughMs ? { commandTimeout: options.rideThroughMs } : {}),
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(200 * times, 2_000),
    // A closed client's socket gets this long to close (ms) before it is destroyed; its timer keeps the process
    // alive, and a socket that was never open never closes again (a CLI that cannot reach Redis lingered 2 s).
    disconnectTimeout: 200,
  });
  // A lost connection shows in the commands that fail; without a listener ioredis prints every reconnect attempt.
  redis.on('error', (error: Error) => lastErrors.set(redis, error));
  return redis;
}

/**
 * The error for a command of `redis` that failed: when the client is not connected, `E_BACKEND` "cannot reach
 * Redis at URL" with the connection's own reason (not ioredis's retry bookkeeping) and the line that starts
 * Redis right; otherwise `what: reason`.
 */
export function redisError(redis: Redis, address: RedisAddress, what: string, cause: unknown): BatchError {
  if (redis.status === 'ready') return new BatchError('E_BACKEND', `${what}: ${describe(cause)}`, { cause });
  return unreachable(address, lastErrors.get(redis) ?? cause);
}

function unreachable(address: RedisAddress, reason: unknown): BatchError {
  return new BatchError(
    'E_BACKEND',
    `cannot reach Redis at ${address.display} (${describe(reason)}). Is it running? Start it with: redis-server --port ${address.port} ${settingsLine()}`,
    { cause: reason },
  );
}

/**
 * Check that Redis at `address` answers and keeps what it is told (`REQUIRED_SETTINGS`), on a connection of its
 * own, closed before this returns: waits up to `timeoutMs` (ms) for a Redis still starting.
 * @throws BatchError `E_BACKEND`: unreachable (with the connection's reason), CONFIG not allowed, or a setting
 *   wrong — the message names each wrong setting, its value, and the line that starts Redis right.
 */
export async function checkRedis(address: RedisAddress, timeoutMs = 5_000): Promise<void> {
  const probe = connectRedis(address, { blocking: true, name: 'flf2v:check' });
  try {
    try {
      await withTimeout(probe.ping(), timeoutMs);
    } catch (cause) {
      throw unreachable(address, lastErrors.get(probe) ?? cause);
    }
    const wrong: string[] = [];
    for (const [name, want] of Object.entries(REQUIRED_SETTINGS)) {
      let got: string | undefined;
      try {
        const reply = (await probe.config('GET', name)) as string[];
        got = reply[1];
      } catch (cause) {
        throw new BatchError(
          'E_BACKEND',
          `Redis at ${address.display} does not let flf2v read its settings (CONFIG GET ${name}: ${describe(cause)}); flf2v needs ${settingsLine()} and refuses to run without knowing`,
          { cause },
        );
      }
      if (got !== want) wrong.push(`${name} is ${JSON.stringify(got ?? '')}, must be ${want}`);
    }
    if (wrong.length > 0) {
      throw new BatchError(
        'E_BACKEND',
        `Redis at ${address.display} would lose what flf2v tells it (a lost intent can mean a task paid twice): ${wrong.join('; ')}. ` +
          `Start it with ${settingsLine()} (or CONFIG SET each, then CONFIG REWRITE).`,
      );
    }
  } finally {
    probe.disconnect();
  }
}

function settingsLine(): string {
  return Object.entries(REQUIRED_SETTINGS)
    .map(([k, v]) => `--${k} ${v}`)
    .join(' ');
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\.+$/, '');
}

/** `promise`, or a rejection (`no answer in ms ms`) when it takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
