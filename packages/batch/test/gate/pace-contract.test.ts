import type { CallOutcome } from '@flf2v/core';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeState, PaceScript } from '../../src/backend/redis/pace-script.js';
import { paceConfigs } from '../../src/gate/options.js';
import {
  newPace,
  type PaceConfig,
  type PaceState,
  paceBegin,
  paceDue,
  paceGrant,
  paceRate,
  paceSettle,
} from '../../src/gate/pace.js';
import { startRedis } from '../_redis.js';

/**
 * The pace rules have two implementations: `gate/pace.ts` (in process) and its Lua port (`pace-lua.ts`, in
 * Redis). Every scenario here runs against both, with the time given explicitly; and random event sequences
 * are run through both side by side, their answers and whole states compared after every step.
 */

interface Pace {
  /** Ask for `want` slots at `now`, as the gates do: how many were granted, and the wait for the next. */
  grant(now: number, want?: number): Promise<{ granted: number; waitMs: number; event: number }>;
  settle(now: number, outcome: CallOutcome): Promise<number>;
  rate(now: number): Promise<number>;
  state(): Promise<PaceState>;
}

function local(c: PaceConfig): Pace {
  const s = newPace(c);
  return {
    async grant(now, want = 1) {
      paceBegin(s, now);
      let granted = 0;
      while (granted < want && paceGrant(s, c, now)) granted++;
      const waitMs = granted < want ? paceDue(s, c, now) - now : 0;
      return { granted, waitMs, event: s.event };
    },
    async settle(now, outcome) {
      paceSettle(s, c, outcome, now);
      return s.event;
    },
    async rate(now) {
      return paceRate(s, c, now);
    },
    async state() {
      return structuredClone(s);
    },
  };
}

const clients: Redis[] = [];
afterEach(() => {
  for (const r of clients.splice(0)) r.disconnect();
});

async function redisConnection(): Promise<Redis> {
  const server = await startRedis();
  const redis = new Redis(server.url);
  clients.push(redis);
  return redis;
}

let keys = 0;
function inRedis(redis: Redis, c: PaceConfig): Pace {
  const script = new PaceScript(redis, 5000);
  const key = `flf2v:contract:limit:${++keys}`;
  const call = (now: number) => ({ key, config: c, idleTtlMs: 60_000, now });
  return {
    grant: (now, want = 1) => script.grant(call(now), want),
    settle: (now, outcome) => script.settle(call(now), outcome),
    rate: async (now) => (await script.read(call(now))).ratePerSecond,
    state: async () => {
      const flat = await redis.hgetall(key);
      return decodeState(Object.entries(flat).flat());
    },
  };
}

const config = (o: Parameters<typeof paceConfigs>[0] = {}) => paceConfigs(o).submit;
const OK: CallOutcome = { status: 200, rateLimited: false };
const limited = (retryAfterMs?: number): CallOutcome => ({ status: 429, rateLimited: true, retryAfterMs });

/** `n` requests granted and answered 200 at `now`. */
async function successes(pace: Pace, now: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await pace.grant(now);
    await pace.settle(now, OK);
  }
}

const IMPLEMENTATIONS = [
  { name: 'gate/pace.ts (in process)', make: async (c: PaceConfig) => local(c) },
  { name: 'pace-lua.ts (in Redis)', make: async (c: PaceConfig) => inRedis(await redisConnection(), c) },
];

describe.each(IMPLEMENTATIONS)('the pace rules: $name', ({ make }) => {
  it('paces a known limit evenly, just under it, and never back to back after idling', async () => {
    const pace = await make(config({ rpm: { submit: 60 }, margin: 0 }));
    expect((await pace.grant(0)).granted).toBe(1);
    expect(await pace.grant(0)).toMatchObject({ granted: 0, waitMs: 1000 });
    expect(await pace.grant(999, 3)).toMatchObject({ granted: 0, waitMs: 1 });
    expect(await pace.grant(1000, 3)).toMatchObject({ granted: 1, waitMs: 1000 });
    expect((await pace.grant(9000)).granted).toBe(1); // idle
    expect(await pace.grant(9000)).toMatchObject({ granted: 0, waitMs: 1000 });
  });

  it('lets any number through at once when no limit is known and no 429 was seen', async () => {
    const pace = await make(config());
    expect(await pace.grant(0, 100)).toMatchObject({ granted: 100, waitMs: 0 });
  });

  it('under a known limit a 429 widens the margin instead of cutting the rate', async () => {
    const pace = await make(config({ rpm: { submit: 600 }, margin: 0.02 }));
    await successes(pace, 0, 5);
    await pace.settle(2000, limited(100));
    expect((await pace.state()).margin).toBeCloseTo(0.04, 10);
    expect(await pace.rate(2000)).toBeCloseTo(10 * 0.96, 10);
  });

  it('sends nothing before Retry-After, and backs off exponentially without one', async () => {
    const pace = await make(config({ fallbackPauseMs: 1000 }));
    await pace.settle(0, limited(5000));
    expect(await pace.grant(4999)).toMatchObject({ granted: 0, waitMs: 1 });
    expect((await pace.grant(5000)).granted).toBe(1);
    await pace.settle(5000, OK);
    await pace.settle(6000, limited());
    await pace.settle(6000, limited());
    expect((await pace.state()).pausedUntil).toBe(8000);
  });

  it('cuts an unknown limit to what was accepted over the epoch, pause included, once per event', async () => {
    const pace = await make(config());
    await pace.grant(0);
    await successes(pace, 500, 100);
    const event = await pace.settle(1000, limited(59_000));
    expect(event).toBe(1);
    expect(await pace.rate(1000)).toBeCloseTo(100 / 60, 6);
    expect(await pace.settle(1000, limited(59_000))).toBe(1); // an echo: no second cut
    expect(await pace.rate(1000)).toBeCloseTo(100 / 60, 6);
  });

  it('does not cut after fewer successes than a real limit allows, nor on a running-task cap', async () => {
    const pace = await make(config({ minRunForCut: 3 }));
    await successes(pace, 0, 2);
    await pace.settle(0, limited(1000));
    expect(await pace.rate(0)).toBe(Number.POSITIVE_INFINITY);
    await successes(pace, 2000, 50);
    expect(await pace.settle(2000, { ...limited(1000), limit: 'concurrency' })).toBe(1);
    expect(await pace.rate(2000)).toBe(Number.POSITIVE_INFINITY);
    expect((await pace.state()).pausedUntil).toBe(3000);
  });

  it('at most halves the rate per congestion event', async () => {
    const pace = await make(config({ rpm: { submit: 600 }, margin: 0.15, maxMargin: 0.15 }));
    await successes(pace, 0, 20);
    await pace.settle(2500, limited(60_000));
    expect(await pace.rate(2500)).toBeCloseTo((10 * 0.85) / 2, 10);
  });

  it('recovers additively once quiet', async () => {
    const pace = await make(config({ recoveryPerSecond: 0.1, quietMs: 5000 }));
    await successes(pace, 0, 10);
    await pace.settle(0, limited(9000));
    const cut = await pace.rate(0);
    expect(await pace.rate(9000)).toBeCloseTo(cut, 10);
    expect(await pace.rate(19_000)).toBeCloseTo(cut * 2, 10);
  });

  it('undoes a cut that did not make 429s rarer, then only pauses', async () => {
    const pace = await make(config({ noiseMs: 60_000 }));
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0, t = 0; i < 300; i++, t += 100) {
      const { granted } = await pace.grant(t);
      if (granted) await pace.settle(t, (i + 1) % 5 === 0 ? limited(100) : OK);
      lowest = Math.min(lowest, await pace.rate(t));
    }
    expect(lowest).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(await pace.rate(30_000)).toBe(Number.POSITIVE_INFINITY);
  });
});

/** Arbitrary event sequences: any order of grants and answers (429s, outages, aborted calls) at any pace. */
const outcome: fc.Arbitrary<CallOutcome> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(OK) },
  {
    weight: 3,
    arbitrary: fc.record({
      status: fc.constant(429),
      rateLimited: fc.constant(true),
      retryAfterMs: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
      limit: fc.constantFrom<CallOutcome['limit']>('rate', 'concurrency', undefined),
    }),
  },
  { weight: 1, arbitrary: fc.constant<CallOutcome>({ status: 503, rateLimited: false, outage: true }) },
  { weight: 1, arbitrary: fc.constant<CallOutcome>({ rateLimited: false, outage: true }) },
  { weight: 1, arbitrary: fc.constant<CallOutcome>({ rateLimited: false }) },
);
const step = fc.record({
  dtMs: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 6, arbitrary: fc.double({ min: 0, max: 100, noNaN: true }) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 8000, noNaN: true }) },
  ),
  op: fc.oneof(fc.record({ want: fc.integer({ min: 1, max: 4 }) }), fc.record({ outcome })),
});
const settings = fc.record({
  rpm: fc.option(fc.integer({ min: 6, max: 1200 }), { nil: undefined, freq: 2 }),
  margin: fc.constantFrom(0, 0.02, 0.1),
  maxMargin: fc.constantFrom(0.1, 0.15),
  quietMs: fc.constantFrom(1000, 5000),
  noiseMs: fc.constantFrom(2000, 10_000),
  minRunForCut: fc.integer({ min: 1, max: 4 }),
  minRatePerSecond: fc.constantFrom(0.1, 0.5),
});

/** A provider for the traffic runs: at most `max` admissions per sliding `windowMs`, plus random 429s. */
const provider = fc.record({
  max: fc.integer({ min: 2, max: 20 }),
  windowMs: fc.constantFrom(500, 1000, 2000),
  noise: fc.constantFrom(0, 0.05, 0.3),
  seed: fc.integer(),
});

function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Redis time is epoch ms with µs. */
const EPOCH = 1_760_000_000_000.123;

describe('gate/pace.ts and pace-lua.ts', () => {
  it('answer alike and hold identical states after every step of arbitrary event sequences', async () => {
    const redis = await redisConnection();
    await fc.assert(
      fc.asyncProperty(settings, fc.array(step, { minLength: 50, maxLength: 300 }), async (o, steps) => {
        const c = config({ ...o, rpm: { submit: o.rpm } });
        const [a, b] = [local(c), inRedis(redis, c)];
        let now = EPOCH;
        for (const { dtMs, op } of steps) {
          now += dtMs;
          if ('want' in op) expect(await b.grant(now, op.want)).toEqual(await a.grant(now, op.want));
          else expect(await b.settle(now, op.outcome)).toBe(await a.settle(now, op.outcome));
          expect(await b.state()).toEqual(await a.state());
        }
        expect(await b.rate(now)).toBe(await a.rate(now));
      }),
      { seed: 16, numRuns: 30 },
    );
  });

  it('answer alike and hold identical states through traffic against a windowed limit (cuts, trials, noise, recovery)', async () => {
    const redis = await redisConnection();
    await fc.assert(
      fc.asyncProperty(settings, provider, async (o, p) => {
        const c = config({ ...o, rpm: { submit: o.rpm } });
        const [a, b] = [local(c), inRedis(redis, c)];
        const random = mulberry32(p.seed);
        const admitted: number[] = [];
        let inFlight = 0;
        let now = EPOCH;
        for (let i = 0; i < 300; i++) {
          now += random() < 0.02 ? random() * 10_000 : random() * 60;
          if (inFlight === 0 || random() < 0.5) {
            const want = 1 + Math.floor(random() * 3);
            const granted = await a.grant(now, want);
            expect(await b.grant(now, want)).toEqual(granted);
            inFlight += granted.granted;
          } else {
            inFlight--;
            while (admitted.length > 0 && admitted[0]! <= now - p.windowMs) admitted.shift();
            let answer: CallOutcome = OK;
            if (admitted.length >= p.max) {
              const retryAfterMs = random() < 0.8 ? admitted[0]! + p.windowMs - now : undefined;
              answer = { ...limited(retryAfterMs), limit: 'rate' };
            } else if (random() < p.noise) answer = limited(100);
            else if (random() < 0.03) answer = { status: 503, rateLimited: false, outage: true };
            else admitted.push(now);
            expect(await b.settle(now, answer)).toBe(await a.settle(now, answer));
          }
          expect(await b.state()).toEqual(await a.state());
        }
      }),
      { seed: 16, numRuns: 30 },
    );
  });
});
