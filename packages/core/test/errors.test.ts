import { type Client, createClient } from '@flf2v/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAST_RETRY,
  failure,
  hang,
  KEY,
  refusedUrl,
  sendJson,
  startServer,
  type TestServer,
  VALID_REQUEST,
} from './_server.js';

/** Each error code, provoked by a real server answering the way the provider might. */

let server: TestServer | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setup(
  handler: Parameters<typeof startServer>[0],
  extra: Partial<Parameters<typeof createClient>[0]> = {},
) {
  server = await startServer(handler);
  client = createClient({ apiKey: KEY, baseUrl: server.url, retry: FAST_RETRY, ...extra });
  return { server, client };
}

describe('error codes', () => {
  it('E_AUTH: a wrong key fails within one request, no retries, naming BAICAI_API_KEY', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 401, { message: 'invalid api key' }));
    const err = await failure(client.status('t1'));
    expect(err).toMatchObject({
      code: 'E_AUTH',
      retryable: false,
      status: 401,
      attempts: 1,
      endpoint: 'status',
    });
    expect(err.message).toContain('BAICAI_API_KEY');
    expect(server.requests).toHaveLength(1);
    const submit = await failure(client.submit(VALID_REQUEST));
    expect(submit).toMatchObject({ code: 'E_AUTH', maybeCreated: false, attempts: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it('E_AUTH on 403 too', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 403, { message: 'forbidden' }));
    expect(await failure(client.result('t1'))).toMatchObject({ code: 'E_AUTH', status: 403 });
  });

  it('E_RATE_LIMITED: 429 retried until the attempts run out, with retryAfterMs', async () => {
    const { server, client } = await setup(
      (_req, res) => sendJson(res, 429, { message: 'slow down' }, { 'retry-after': '0' }),
      {
        retry: { query: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } },
      },
    );
    const err = await failure(client.status('t1'));
    expect(err).toMatchObject({ code: 'E_RATE_LIMITED', retryable: true, retryAfterMs: 0, attempts: 3 });
    expect(server.requests).toHaveLength(3);
  });

  it('E_RATE_LIMITED: HTTP 200 with a code != 0 that means "too many"', async () => {
    const { client } = await setup(
      (_req, res) => sendJson(res, 200, { code: 1003, message: '并发任务数超过限制' }),
      {
        retry: { submit: { attempts: 1 } },
      },
    );
    const err = await failure(client.submit(VALID_REQUEST));
    expect(err).toMatchObject({
      code: 'E_RATE_LIMITED',
      retryable: true,
      maybeCreated: false,
      providerCode: 1003,
    });
  });

  it('E_SERVER: 5xx on a GET is retried, then reported', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 502, 'bad gateway'));
    const err = await failure(client.result('t1'));
    expect(err).toMatchObject({ code: 'E_SERVER', status: 502, retryable: true, attempts: 5 });
    expect(server.requests).toHaveLength(5);
  });

  it('E_NETWORK: connection refused', async () => {
    client = createClient({
      apiKey: KEY,
      baseUrl: await refusedUrl(),
      retry: { query: { attempts: 2, baseDelayMs: 1 } },
    });
    const err = await failure(client.status('t1'));
    expect(err).toMatchObject({ code: 'E_NETWORK', retryable: true, attempts: 2 });
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('E_TIMEOUT: no response headers in time', async () => {
    const { client } = await setup(hang, {
      timeouts: { query: { headersMs: 100 } },
      retry: { query: { attempts: 1 } },
    });
    expect(await failure(client.status('t1'))).toMatchObject({ code: 'E_TIMEOUT', retryable: true });
  });

  it('E_BAD_RESPONSE: non-JSON, keeping the body and naming the endpoint', async () => {
    const html = `<html>${'x'.repeat(5000)}</html>`;
    const { client } = await setup((_req, res) => sendJson(res, 200, html), {
      retry: { query: { attempts: 1 } },
    });
    const err = await failure(client.status('t1'));
    expect(err).toMatchObject({
      code: 'E_BAD_RESPONSE',
      endpoint: 'status',
      path: '/v1/comfyui/tasks/t1/status',
    });
    expect(err.message).toMatch(/^status \(GET \/v1\/comfyui\/tasks\/t1\/status\)/);
    expect(err.body?.startsWith('<html>xxx')).toBe(true);
    expect(err.body?.length).toBeLessThan(2200);
  });

  it('E_PROVIDER: HTTP 200 with code != 0, provider code and message kept, not retried', async () => {
    const { server, client } = await setup((_req, res) =>
      sendJson(res, 200, { code: 40001, message: '余额不足' }),
    );
    const err = await failure(client.submit(VALID_REQUEST));
    expect(err).toMatchObject({
      code: 'E_PROVIDER',
      retryable: false,
      maybeCreated: false,
      providerCode: 40001,
      providerMessage: '余额不足',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('E_MODERATION: HTTP 400 with the documented message, never retried', async () => {
    const { server, client } = await setup((_req, res) =>
      sendJson(res, 400, {
        message: 'The content contains inappropriate information and does not pass the review.',
      }),
    );
    const err = await failure(client.submit(VALID_REQUEST));
    expect(err).toMatchObject({ code: 'E_MODERATION', retryable: false, maybeCreated: false, status: 400 });
    expect(server.requests).toHaveLength(1);
  });

  it('E_MODERATION: patterns are configurable', async () => {
    const { client } = await setup(
      (_req, res) => sendJson(res, 200, { code: 7, message: 'policy violation #12' }),
      {
        moderationPatterns: [/policy violation/i],
      },
    );
    expect(await failure(client.submit(VALID_REQUEST))).toMatchObject({
      code: 'E_MODERATION',
      providerCode: 7,
    });
  });

  it('E_INVALID_REQUEST: checked locally first, nothing sent', async () => {
    const { server, client } = await setup((_req, res) =>
      sendJson(res, 200, { code: 0, data: { taskId: 'x' } }),
    );
    const bad = { ...VALID_REQUEST, input: { ...VALID_REQUEST.input, duration: 7, image: 'frames/a.png' } };
    const err = await failure(client.submit(bad as never));
    expect(err).toMatchObject({ code: 'E_INVALID_REQUEST', retryable: false, maybeCreated: false });
    expect(err.message).toContain('duration: expected 5, 6 or 8, got 7');
    expect(err.message).toContain('image: expected an http(s) URL');
    expect(server.requests).toHaveLength(0);
  });

  it('E_INVALID_REQUEST: HTTP 400/404/422 from the API', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 422, { message: 'bad duration' }));
    expect(await failure(client.submit(VALID_REQUEST))).toMatchObject({
      code: 'E_INVALID_REQUEST',
      maybeCreated: false,
      status: 422,
    });
  });

  it('E_ABORTED: an aborted signal stops before sending', async () => {
    const { server, client } = await setup((_req, res) =>
      sendJson(res, 200, { code: 0, data: { taskId: 'x' } }),
    );
    const err = await failure(client.submit(VALID_REQUEST, { signal: AbortSignal.abort() }));
    expect(err).toMatchObject({ code: 'E_ABORTED', maybeCreated: false });
    expect(server.requests).toHaveLength(0);
  });

  it('E_ABORTED: aborting an in-flight GET', async () => {
    const { client } = await setup(hang);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(await failure(client.status('t1', { signal: controller.signal }))).toMatchObject({
      code: 'E_ABORTED',
    });
  });

  it('E_CONFIG: calls on a closed client', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, {}));
    await client.close();
    expect(await failure(client.status('t1'))).toMatchObject({ code: 'E_CONFIG' });
  });

  it('toJSON keeps the context a journal needs', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 502, 'upstream'), {
      retry: { submit: { attempts: 3 } },
    });
    const err = await failure(client.submit(VALID_REQUEST));
    expect(err.toJSON()).toEqual({
      code: 'E_SERVER',
      message: expect.stringContaining('the task may have been created'),
      retryable: false,
      endpoint: 'submit',
      method: 'POST',
      path: '/v1/videos/generations',
      status: 502,
      providerMessage: 'upstream',
      maybeCreated: true,
      attempts: 1,
      body: 'upstream',
    });
  });
});
