import {
  ApiError,
  type AttemptEvent,
  type CallClass,
  type CallOutcome,
  type Client,
  createClient,
} from '@flf2v/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Exchange } from '../src/_exchange.js';
import { backoffDelayMs, withRetry } from '../src/_retry.js';
import {
  FAST_RETRY,
  failure,
  KEY,
  sendJson,
  startServer,
  type TestServer,
  VALID_REQUEST,
} from './_server.js';

let server: TestServer | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

describe('backoff (the layer alone)', () => {
  const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

  it('is full jitter under an exponential ceiling with a cap', () => {
    expect(backoffDelayMs(1, policy, () => 0.999999)).toBe(100);
    expect(backoffDelayMs(3, policy, () => 0.999999)).toBe(400);
    expect(backoffDelayMs(9, policy, () => 0.999999)).toBe(1000);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
  });

  it('withRetry runs any attempt function: retries transient errors, stops on permanent ones', async () => {
    const ex = new Exchange('status', 'query', 'GET', '/x', [KEY]);
    const transient = () =>
      new ApiError(
        'E_SERVER',
        'boom',
        { endpoint: 'status', method: 'GET', path: '/x' },
        { retryable: true },
      );
    let calls = 0;
    const value = await withRetry(ex, { ...policy, baseDelayMs: 1 }, {}, undefined, async (n) => {
      calls++;
      if (n < 3) throw transient();
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    calls = 0;
    const permanent = new ApiError(
      'E_AUTH',
      'no',
      { endpoint: 'status', method: 'GET', path: '/x' },
      { retryable: false },
    );
    await expect(
      withRetry(ex, policy, {}, undefined, async () => {
        calls++;
        throw permanent;
      }),
    ).rejects.toBe(permanent);
    expect(calls).toBe(1);
  });
});

describe('retry policy against a server', () => {
  it('GET: 500 then success', async () => {
    server = await startServer((_req, res, { n }) =>
      n === 1 ? sendJson(res, 500, 'x') : sendJson(res, 200, { code: 0, data: [{ status: 'RUNNING' }] }),
    );
    client = createClient({ apiKey: KEY, baseUrl: server.url, retry: FAST_RETRY });
    expect((await client.status('t')).status).toBe('RUNNING');
    expect(server.requests).toHaveLength(2);
  });

  it('Retry-After in seconds is a floor under the backoff', async () => {
    server = await startServer((_req, res, { n }) =>
      n === 1
        ? sendJson(res, 429, {}, { 'retry-after': '1' })
        : sendJson(res, 200, { code: 0, data: { urls: ['http://x/a.mp4'] } }),
    );
    const events: AttemptEvent[] = [];
    client = createClient({
      apiKey: KEY,
      baseUrl: server.url,
      retry: FAST_RETRY,
      onAttempt: (e) => events.push(e),
    });
    await client.result('t');
    expect(events[0]).toMatchObject({
      status: 429,
      code: 'E_RATE_LIMITED',
      willRetry: true,
      retryAfterMs: 1000,
    });
    expect(events[0]!.delayMs).toBe(1000);
  });

  it('Retry-After as an HTTP-date is a floor too', async () => {
    server = await startServer((_req, res, { n }) => {
      const at = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000).toUTCString();
      return n === 1
        ? sendJson(res, 503, {}, { 'retry-after': at })
        : sendJson(res, 200, { code: 0, data: { urls: ['http://x/a.mp4'] } });
    });
    const events: AttemptEvent[] = [];
    client = createClient({
      apiKey: KEY,
      baseUrl: server.url,
      retry: FAST_RETRY,
      onAttempt: (e) => events.push(e),
    });
    await client.result('t');
    expect(events[0]!.retryAfterMs).toBeGreaterThan(400);
    expect(events[0]!.delayMs).toBe(events[0]!.retryAfterMs);
  });

  it('garbage Retry-After is ignored (plain backoff)', async () => {
    server = await startServer((_req, res, { n }) =>
      n === 1
        ? sendJson(res, 429, {}, { 'retry-after': 'whenever' })
        : sendJson(res, 200, { code: 0, data: { urls: ['http://x/a.mp4'] } }),
    );
    const events: AttemptEvent[] = [];
    client = createClient({
      apiKey: KEY,
      baseUrl: server.url,
      retry: FAST_RETRY,
      onAttempt: (e) => events.push(e),
    });
    await client.result('t');
    expect(events[0]!.retryAfterMs).toBeUndefined();
    expect(events[0]!.delayMs).toBeLessThanOrEqual(5);
  });

  it('a Retry-After beyond maxRetryAfterMs is handed back, not slept on', async () => {
    server = await startServer((_req, res) => sendJson(res, 429, {}, { 'retry-after': '3600' }));
    client = createClient({
      apiKey: KEY,
      baseUrl: server.url,
      retry: { query: { maxRetryAfterMs: 10_000 } },
    });
    const started = Date.now();
    const err = await failure(client.status('t'));
    expect(err).toMatchObject({
      code: 'E_RATE_LIMITED',
      retryable: true,
      retryAfterMs: 3_600_000,
      attempts: 1,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.requests).toHaveLength(1);
  });

  it('aborting during the backoff ends the call with E_ABORTED', async () => {
    server = await startServer((_req, res) => sendJson(res, 503, {}, { 'retry-after': '30' }));
    client = createClient({ apiKey: KEY, baseUrl: server.url });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await failure(client.submit(VALID_REQUEST, { signal: controller.signal }));
    expect(err).toMatchObject({ code: 'E_ABORTED', maybeCreated: false });
    expect(server.requests).toHaveLength(1);
  });
});

describe('gate and onAttempt', () => {
  it('acquire before every attempt including retries, settle after each, one event per attempt', async () => {
    server = await startServer((_req, res, { n }) =>
      n === 1
        ? sendJson(res, 429, {}, { 'retry-after': '0' })
        : sendJson(res, 200, { code: 0, data: { taskId: 'T' } }),
    );
    const log: string[] = [];
    const gate = {
      async acquire(cls: CallClass) {
        log.push(`acquire ${cls}`);
      },
      settle(cls: CallClass, outcome: CallOutcome) {
        log.push(`settle ${cls} ${outcome.status} ${outcome.rateLimited} ${outcome.retryAfterMs}`);
      },
    };
    const events: AttemptEvent[] = [];
    client = createClient({
      apiKey: KEY,
      baseUrl: server.url,
      retry: FAST_RETRY,
      gate,
      onAttempt: (e) => events.push(e),
    });
    await client.submit(VALID_REQUEST);
    expect(log).toEqual([
      'acquire submit',
      'settle submit 429 true 0',
      'acquire submit',
      'settle submit 200 false undefined',
    ]);
    expect(events).toEqual([
      {
        endpoint: 'submit',
        callClass: 'submit',
        attempt: 1,
        status: 429,
        code: 'E_RATE_LIMITED',
        durationMs: expect.any(Number),
        willRetry: true,
        delayMs: expect.any(Number),
        retryAfterMs: 0,
      },
      {
        endpoint: 'submit',
        callClass: 'submit',
        attempt: 2,
        status: 200,
        code: undefined,
        durationMs: expect.any(Number),
        willRetry: false,
        delayMs: undefined,
        retryAfterMs: undefined,
      },
    ]);
  });

  it('a gate that waits is waited for; an abort while waiting sends nothing', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { code: 0, data: [{ status: 'RUNNING' }] }));
    const gate = {
      acquire: (_cls: CallClass, signal?: AbortSignal) =>
        new Promise<void>((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason)),
        ),
      settle() {},
    };
    client = createClient({ apiKey: KEY, baseUrl: server.url, gate });
    const err = await failure(client.status('t', { signal: AbortSignal.timeout(50) }));
    expect(err.code).toBe('E_ABORTED');
    expect(server.requests).toHaveLength(0);
  });

  it('status/result use the query class; download the download class', async () => {
    server = await startServer((req, res) =>
      req.url?.endsWith('/status')
        ? sendJson(res, 200, { code: 0, data: [{ status: 'RUNNING' }] })
        : sendJson(res, 200, { code: 0, data: { urls: ['http://x/a.mp4'] } }),
    );
    const classes: string[] = [];
    client = createClient({
      apiKey: KEY,
      baseUrl: server.url,
      gate: { acquire: async (c) => void classes.push(c), settle() {} },
    });
    await client.status('a');
    await client.result('a');
    expect(classes).toEqual(['query', 'query']);
  });

  it('a throwing onAttempt or settle never turns a successful submit into a failure', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { code: 0, data: { taskId: 'T' } }));
    client = createClient({
      apiKey: KEY,
      baseUrl: server.url,
      gate: {
        acquire: async () => {},
        settle() {
          throw new Error('limiter bug');
        },
      },
      onAttempt() {
        throw new Error('stats bug');
      },
    });
    expect((await client.submit(VALID_REQUEST)).taskId).toBe('T');
  });
});
