import { type Client, createClient } from '@flf2v/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAST_RETRY,
  failure,
  hang,
  KEY,
  refusedUrl,
  resetAfterSend,
  sendJson,
  startBlackhole,
  startServer,
  type TestServer,
  VALID_REQUEST,
} from './_server.js';

/**
 * A submit is retried automatically only when it provably created nothing. Every ambiguous failure comes back
 * as `maybeCreated: true` after exactly one POST reached the server.
 */

let server: TestServer | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

const OK = { code: 0, data: { taskId: 'task-1' } };

async function submitAgainst(handler: Parameters<typeof startServer>[0], timeouts = {}) {
  server = await startServer(handler);
  client = createClient({
    apiKey: KEY,
    baseUrl: server.url,
    retry: FAST_RETRY,
    timeouts: { submit: timeouts },
  });
  return client.submit(VALID_REQUEST);
}

describe('ambiguous submit failures are returned, never re-sent', () => {
  it('regression: a reset after the request was sent is not re-sent', async () => {
    const err = await failure(submitAgainst(resetAfterSend));
    expect(err).toMatchObject({ code: 'E_NETWORK', maybeCreated: true, retryable: false, attempts: 1 });
    expect(err.message).toContain('the task may have been created');
    expect(server!.requests).toHaveLength(1);
  });

  for (const status of [500, 502, 504]) {
    it(`HTTP ${status} is not re-sent`, async () => {
      const err = await failure(submitAgainst((_req, res) => sendJson(res, status, { message: 'oops' })));
      expect(err).toMatchObject({ code: 'E_SERVER', status, maybeCreated: true, retryable: false });
      expect(server!.requests).toHaveLength(1);
    });
  }

  it('a response timeout is not re-sent', async () => {
    const err = await failure(submitAgainst(hang, { headersMs: 150 }));
    expect(err).toMatchObject({ code: 'E_TIMEOUT', maybeCreated: true, retryable: false });
    expect(server!.requests).toHaveLength(1);
  });

  it('an unreadable 200 is not re-sent', async () => {
    const err = await failure(submitAgainst((_req, res) => sendJson(res, 200, '<html>gateway</html>')));
    expect(err).toMatchObject({
      code: 'E_BAD_RESPONSE',
      maybeCreated: true,
      retryable: false,
      body: '<html>gateway</html>',
    });
    expect(server!.requests).toHaveLength(1);
  });

  it('a 200 whose body breaks off is not re-sent', async () => {
    const err = await failure(
      submitAgainst((_req, res) => {
        res.writeHead(200, { 'content-length': '200' });
        res.write('{"code":0,"data":{"task');
        setTimeout(() => res.socket?.destroy(), 10);
      }),
    );
    expect(err).toMatchObject({
      code: 'E_BAD_RESPONSE',
      maybeCreated: true,
      body: '{"code":0,"data":{"task',
    });
    expect(server!.requests).toHaveLength(1);
  });

  it('aborting an in-flight submit reports it as maybe created', async () => {
    server = await startServer(hang);
    client = createClient({ apiKey: KEY, baseUrl: server.url });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await failure(client.submit(VALID_REQUEST, { signal: controller.signal }));
    expect(err).toMatchObject({ code: 'E_ABORTED', maybeCreated: true });
  });
});

describe('submits that provably created nothing are retried', () => {
  it('429 then success', async () => {
    const res = await submitAgainst((_req, res, { n }) =>
      n === 1 ? sendJson(res, 429, { message: 'too many' }, { 'retry-after': '0' }) : sendJson(res, 200, OK),
    );
    expect(res.taskId).toBe('task-1');
    expect(server!.requests).toHaveLength(2);
  });

  it('503 then success', async () => {
    const res = await submitAgainst((_req, res, { n }) =>
      n === 1 ? sendJson(res, 503, 'busy') : sendJson(res, 200, OK),
    );
    expect(res.taskId).toBe('task-1');
    expect(server!.requests).toHaveLength(2);
  });

  it('a code != 0 rate-limit message then success', async () => {
    const res = await submitAgainst((_req, res, { n }) =>
      n === 1 ? sendJson(res, 200, { code: 429, message: 'Rate limit exceeded' }) : sendJson(res, 200, OK),
    );
    expect(res.taskId).toBe('task-1');
  });

  it('connection refused: retried up to the budget, maybeCreated false', async () => {
    client = createClient({
      apiKey: KEY,
      baseUrl: await refusedUrl(),
      retry: { submit: { attempts: 3, baseDelayMs: 1 } },
    });
    const err = await failure(client.submit(VALID_REQUEST));
    expect(err).toMatchObject({ code: 'E_NETWORK', maybeCreated: false, retryable: true, attempts: 3 });
  });

  it('a connect timeout: retried, maybeCreated false', async () => {
    const hole = await startBlackhole();
    try {
      client = createClient({
        apiKey: KEY,
        baseUrl: hole.url,
        timeouts: { submit: { connectMs: 100 } },
        retry: { submit: { attempts: 2, baseDelayMs: 1 } },
      });
      const err = await failure(client.submit(VALID_REQUEST));
      expect(err).toMatchObject({ code: 'E_TIMEOUT', maybeCreated: false, retryable: true, attempts: 2 });
      expect(err.message).toContain('connect timeout');
    } finally {
      await hole.close();
    }
  });

  it('DNS failure: not sent, maybeCreated false', async () => {
    client = createClient({
      apiKey: KEY,
      baseUrl: 'http://no-such-host.invalid',
      retry: { submit: { attempts: 1 } },
    });
    const err = await failure(client.submit(VALID_REQUEST));
    expect(err).toMatchObject({ code: 'E_NETWORK', maybeCreated: false, retryable: true });
  });
});

describe('permanent submit errors are never retried', () => {
  for (const [status, body, code] of [
    [401, { message: 'bad key' }, 'E_AUTH'],
    [403, { message: 'forbidden' }, 'E_AUTH'],
    [
      400,
      { message: 'The content contains inappropriate information and does not pass the review.' },
      'E_MODERATION',
    ],
    [400, { message: 'duration invalid' }, 'E_INVALID_REQUEST'],
    [200, { code: 10001, message: 'invalid parameter' }, 'E_PROVIDER'],
  ] as const) {
    it(`${status} ${code}`, async () => {
      const err = await failure(submitAgainst((_req, res) => sendJson(res, status, body)));
      expect(err).toMatchObject({ code, maybeCreated: false, retryable: false, attempts: 1 });
      expect(server!.requests).toHaveLength(1);
    });
  }
});
