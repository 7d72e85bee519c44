import { setMaxListeners } from 'node:events';
import { type CallClass, type CallOutcome, createClient } from '@flf2v/core';
import { startSimulator } from '@flf2v/simulator';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../../src/backend/redis/connection.js';
import { RedisKeys } from '../../../src/backend/redis/keys.js';
import { type RedisLimiterOptions, RedisRateLimiter } from '../../../src/backend/redis/limiter.js';
import { parseRedisUrl } from '../../../src/backend/redis/url.js';
import { type RedisServer, startRedis } from '../../_redis.js';

/**
 * The shared gate against a real redis-server, in real time: several gates on one `fp`, each on its own
 * connection, stand for workers on several machines. Counts within windows are asserted, never durations.
 */

const OK: CallOutcome = { status: 200, rateLimited: false };
const limited = (retryAfterMs?: number): CallOutcome => ({ status: 429, rateLimited: true, retryAfterMs });
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

function connect(server: RedisServer, options: RedisOptions = {}): Redis {
  const redis = new Redis(server.url, options);
  redis.on('error', () => {}); // a stopped server is part of some tests
  closers.push(async () => redis.disconnect());
  return redis;
}

/** `n` gates on `fp`, each on its own connection (made as a worker makes it), as `n` workers would have. */
function gates(
  server: RedisServer,
  n: number,
  options: Partial<RedisLimiterOptions> = {},
): RedisRateLimiter[] {
  return Array.from({ length: n }, () => {
    const redis = connectRedis(parseRedisUrl(server.url), { name: 'flf2v:test' });
    closers.push(async () => redis.disconnect());
    const gate = new RedisRateLimiter({ redis, fp: 'fp-a', ...options });
    closers.push(async () => {
      gate.close(new Error('test over'));
      await gate.drain();
    });
    return gate;
  });
}

/** Most grants in any window of `windowMs` (times sorted). */
function busiest(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/**
 * `lanes` callers per gate for `forMs`, each acquiring, holding its slot `holdMs` and settling it 200 OK;
 * waiting ones give up at the end. Returns the grant times (monotonic ms).
 */
async function drive(
  all: RedisRateLimiter[],
  forMs: number,
  o: { lanes?: number; holdMs?: number; cls?: CallClass } = {},
): Promise<number[]> {
  const granted: number[] = [];
  const cls = o.cls ?? 'submit';
  const signal = AbortSignal.timeout(forMs);
  setMaxListeners(0, signal); // every lane of every gate waits on it
  const lane = async (gate: RedisRateLimiter) => {
    for (;;) {
      try {
        await gate.acquire(cls, signal);
      } catch {
        return; // the time is up
      }
      granted.push(performance.now());
      await new Promise((r) => setTimeout(r, o.holdMs ?? 5));
      gate.settle(cls, OK);
    }
  };
  await Promise.all(all.flatMap((gate) => Array.from({ length: o.lanes ?? 4 }, () => lane(gate))));
  return granted;
}

describe('RedisRateLimiter', () => {
  it('paces workers on one key together under a known limit, and close to it', async () => {
    const server = await startRedis();
    // 600 per minute: 10 a second. A margin of 10% keeps the check of grant times (taken on this process's
    // clock, after a round trip) clear of event-loop noise; the pace itself is decided on Redis time.
    const all = gates(server, 3, { rpm: { submit: 600 }, margin: 0.1 });
    const granted = await drive(all, 3000);
    expect(busiest(granted, 1000)).toBeLessThanOrEqual(10);
    // 3 s at 9 a second: 27 (+1 for the first slot); three unshared limiters would grant three times that.
    expect(granted.length).toBeGreaterThanOrEqual(21); // 26 measured here; the slack is for a busy machine
    expect(granted.length).toBeLessThanOrEqual(29);
  });

  it('pauses every worker when one of them gets a 429, until its Retry-After (that class only)', async () => {
    const server = await startRedis();
    const [a, b, c] = gates(server, 3);
    await a!.acquire('query');
    const t0 = performance.now();
    a!.settle('query', limited(1500));
    await a!.drain();
    const submit = b!.acquire('submit').then(() => performance.now() - t0);
    const granted: number[] = [];
    await Promise.all(
      [a!, b!, c!, b!, c!].map(async (gate) => {
        await gate.acquire('query');
        granted.push(performance.now() - t0);
        gate.settle('query', OK);
      }),
    );
    expect(granted.filter((t) => t < 1450)).toEqual([]);
    expect(granted.filter((t) => t < 3000)).toHaveLength(5);
    expect(await submit).toBeLessThan(1000);
  });

  it('counts the 429s of one congestion event once, whichever worker got them', async () => {
    const server = await startRedis();
    const [a, b] = gates(server, 2);
    await drive([a!, b!], 300, { lanes: 2 });
    const before = await b!.snapshot('submit');
    a!.settle('submit', limited(2000));
    await a!.drain();
    const cut = (await a!.snapshot('submit')).ratePerSecond;
    expect(cut).toBeLessThan(Number.POSITIVE_INFINITY);
    b!.settle('submit', limited(2000)); // an answer to a request sent before the pause: an echo
    await b!.drain();
    const after = await b!.snapshot('submit');
    expect(after.ratePerSecond).toBe(cut);
    expect(after.rateLimited).toBe(2);
    expect(after.window).toBe(Math.floor(before.window / 2)); // each worker's own window halves once
  });

  it('keeps API keys apart: a pause on one fingerprint does not touch another', async () => {
    const server = await startRedis();
    const [a] = gates(server, 1);
    const [other] = gates(server, 1, { fp: 'fp-b' });
    await a!.acquire('submit');
    a!.settle('submit', limited(60_000));
    await a!.drain();
    const t0 = performance.now();
    await other!.acquire('submit');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((await a!.snapshot('submit')).pausedUntil).toBeGreaterThan(performance.now() + 50_000);
    expect((await other!.snapshot('submit')).pausedUntil).toBe(0);
  });

  it('learns an unknown limit once for every worker: the cut converges, few 429s, no spiral', async () => {
    const server = await startRedis();
    const sim = await startSimulator({
      seed: 5,
      timings: { pendingMs: 0, runningMs: 100, jitterRatio: 0 },
      limits: { submit: { max: 5, windowMs: 1000 }, query: null, maxRunningPerKey: null },
    });
    closers.push(() => sim.close());
    const shared = gates(server, 3);
    const clients = shared.map((gate) => {
      const client = createClient({
        apiKey: 'sk-shared-limit-test-0123456789',
        baseUrl: sim.url,
        gate,
        retry: { submit: { attempts: 1 } }, // every attempt is the test's own: the gate alone paces
      });
      closers.push(() => client.close());
      return client;
    });
    const signal = AbortSignal.timeout(5000);
    await Promise.all(
      clients.flatMap((client, c) =>
        Array.from({ length: 3 }, async (_, lane) => {
          for (let i = 0; !signal.aborted; i++) {
            await client.submit(request(`client ${c} lane ${lane} #${i}`), { signal }).catch(() => {});
          }
        }),
      ),
    );
    const submits = sim.ledger().requests.log.filter((e) => e.endpoint === 'submit');
    const accepted = submits.filter((e) => e.status === 200);
    const refused = submits.filter((e) => e.status === 429);
    // What the provider saw. Finding the limit costs one burst of 429s: the requests already on their way
    // when the first one came back (a window of 2+ per worker). After that pause, hardly any: the cut learned
    // from all workers' successes holds for all of them, and the rate does not spiral down (5 a second).
    const discovered = refused[0]!.at + 1000;
    const after = submits.filter((e) => e.at > discovered);
    expect(refused.length - refused.filter((e) => e.at > discovered).length).toBeLessThanOrEqual(15);
    expect(after.filter((e) => e.status === 429).length / after.length).toBeLessThan(0.1);
    const last = submits.at(-1)!.at;
    expect(accepted.filter((e) => e.at > last - 3000).length).toBeGreaterThanOrEqual(10);
  });

  it('keeps at most one hash per class and key, each expiring after the idle time', async () => {
    const server = await startRedis();
    const [a, b] = gates(server, 2, { idleTtlMs: 800, rpm: { submit: 6000 } });
    for (const cls of ['upload', 'submit', 'query', 'download'] as const) {
      await drive([a!, b!], 100, { cls, holdMs: 1 });
    }
    a!.settle('submit', limited(200));
    await a!.drain();
    const redis = connect(server);
    const keys = (await redis.keys('*')).sort();
    expect(keys).toEqual(
      ['download', 'query', 'submit', 'upload'].map((c) => new RedisKeys('fp-a').limit(c as CallClass)),
    );
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1000); // the idle time, after the 200 ms pause at most
    }
    await new Promise((r) => setTimeout(r, 1200));
    expect(await redis.keys('*')).toEqual([]);
  });

  it('rejects waiters with E_BACKEND when Redis does not answer, and works again once it is back', async () => {
    const server = await startRedis();
    const redis = connect(server, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    const gate = new RedisRateLimiter({ redis, fp: 'fp-a', timeoutMs: 300 });
    closers.push(async () => gate.close(new Error('test over')));
    await gate.acquire('submit');
    gate.settle('submit', OK);
    await server.kill();
    const waiting = [gate.acquire('submit'), gate.acquire('query')];
    for (const w of waiting) {
      await expect(w).rejects.toMatchObject({ code: 'E_BACKEND' });
    }
    await server.restart();
    await expect(gate.acquire('submit')).resolves.toBeUndefined();
  });

  it('gives up waiting when the caller aborts', async () => {
    const server = await startRedis();
    const [a] = gates(server, 1);
    await a!.acquire('submit');
    a!.settle('submit', limited(10_000));
    const controller = new AbortController();
    const waiting = a!.acquire('submit', controller.signal);
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(waiting).rejects.toThrow('stop');
  });
});

function request(prompt: string) {
  return {
    selected_model: 'Viduq2-pro-FLF2V-fast',
    task_type: 'flf2video' as const,
    input: {
      image: 'https://cdn.example.test/a.png',
      last_image: 'https://cdn.example.test/b.png',
      prompt,
      resolution: '720p' as const,
      duration: 5 as const,
    },
  };
}
