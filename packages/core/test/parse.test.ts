import { createClient } from '@flf2v/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAST_RETRY,
  failure,
  KEY,
  sendJson,
  startServer,
  type TestServer,
  TINY_PNG,
  VALID_REQUEST,
} from './_server.js';

/** Tolerant parsing: one server answers with whatever body the test puts under the task id. */
const bodies = new Map<string, unknown>();
let server: TestServer;
let client: ReturnType<typeof createClient>;

beforeAll(async () => {
  server = await startServer((req, res) => {
    const id = decodeURIComponent(req.url?.split('/')[4] ?? '');
    const body =
      req.url === '/v1/videos/generations' || req.url === '/v1/resources/upload'
        ? bodies.get(req.url)
        : bodies.get(id);
    if (typeof body === 'string' && body.startsWith('TRUNCATE:')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write(body.slice(9));
      setTimeout(() => res.socket?.destroy(), 10);
      return;
    }
    sendJson(res, 200, body ?? { code: 0 });
  });
  client = createClient({
    apiKey: KEY,
    baseUrl: server.url,
    retry: { ...FAST_RETRY, query: { attempts: 1 }, submit: { attempts: 1 } },
  });
});
afterAll(async () => {
  await client.close();
  await server.close();
});

async function statusOf(body: unknown) {
  const id = `t${bodies.size}`;
  bodies.set(id, body);
  return client.status(id);
}
async function resultOf(body: unknown) {
  const id = `r${bodies.size}`;
  bodies.set(id, body);
  return client.result(id);
}
describe('status', () => {
  it('reads the documented one-element array and a plain object', async () => {
    expect(await statusOf({ code: 0, data: [{ status: 'RUNNING', progress: '45%' }] })).toMatchObject({
      status: 'RUNNING',
      rawStatus: 'RUNNING',
      progress: 45,
    });
    expect(await statusOf({ code: 0, data: { status: 'PENDING' } })).toMatchObject({ status: 'PENDING' });
  });

  it('reads progress as "45%", 45, "45" and 0.45', async () => {
    for (const progress of ['45%', 45, '45', 0.45, '0.45']) {
      expect((await statusOf({ code: 0, data: [{ status: 'RUNNING', progress }] })).progress).toBe(45);
    }
    expect(
      (await statusOf({ code: 0, data: [{ status: 'RUNNING', progress: 'soon' }] })).progress,
    ).toBeUndefined();
  });

  it('surfaces unknown statuses as UNKNOWN with the raw value; maps spellings of terminal ones', async () => {
    expect(await statusOf({ code: 0, data: [{ status: 'QUEUED' }] })).toMatchObject({
      status: 'UNKNOWN',
      rawStatus: 'QUEUED',
    });
    expect(await statusOf({ code: 0, data: [{ status: 'cancelled' }] })).toMatchObject({
      status: 'CANCELED',
    });
    expect(await statusOf({ code: 0, data: { state: 'SUCCESS' } })).toMatchObject({ status: 'COMPLETED' });
  });

  it('keeps the failure reason and the raw body', async () => {
    const body = { code: 0, data: [{ status: 'FAILED', message: 'GPU exploded' }] };
    expect(await statusOf(body)).toEqual({
      status: 'FAILED',
      rawStatus: 'FAILED',
      message: 'GPU exploded',
      raw: body,
    });
  });

  it('missing fields, empty arrays and truncated bodies are E_BAD_RESPONSE naming the endpoint', async () => {
    for (const body of [
      { code: 0, data: [] },
      { code: 0, data: [{ progress: 1 }] },
      { code: 0 },
      { hello: 1 },
      [1, 2],
    ]) {
      const err = await failure(statusOf(body));
      expect(err).toMatchObject({ code: 'E_BAD_RESPONSE', endpoint: 'status', retryable: true });
    }
    const err = await failure(statusOf('TRUNCATE:{"code":0,"data":[{"sta'));
    expect(err).toMatchObject({ code: 'E_BAD_RESPONSE', body: '{"code":0,"data":[{"sta' });
  });
});

describe('result', () => {
  it('reads data.urls, data[0].result.urls and close relatives', async () => {
    const a = 'https://cdn.test/a.mp4?sig=1';
    const b = 'https://cdn.test/b.mp4';
    expect((await resultOf({ code: 0, data: { urls: [a, b] } })).urls).toEqual([a, b]);
    expect((await resultOf({ code: 0, data: [{ result: { urls: [a] } }] })).urls).toEqual([a]);
    expect((await resultOf({ code: 0, data: { result: { urls: [a] } } })).urls).toEqual([a]);
    expect((await resultOf({ code: 0, data: [{ url: a }, { url: b }] })).urls).toEqual([a, b]);
    expect((await resultOf({ code: 0, data: { videos: [{ url: a }] } })).urls).toEqual([a]);
  });

  it('no URL at all is E_BAD_RESPONSE', async () => {
    const err = await failure(resultOf({ code: 0, data: { urls: [] } }));
    expect(err).toMatchObject({ code: 'E_BAD_RESPONSE', endpoint: 'result' });
    expect(err.message).toContain('data.urls or data[0].result.urls');
  });
});

describe('submit and upload', () => {
  it('returns the taskId and the parsed provider timestamp', async () => {
    bodies.set('/v1/videos/generations', {
      code: 0,
      message: '任务提交成功',
      data: { taskId: '3524e0b3ba014b12ab1faf29f9f00000' },
      ts: '2026-02-02T10:44:54.716004004+08:00[Asia/Shanghai]',
    });
    const res = await client.submit(VALID_REQUEST);
    expect(res.taskId).toBe('3524e0b3ba014b12ab1faf29f9f00000');
    expect(res.ts?.toISOString()).toBe('2026-02-02T02:44:54.716Z');
  });

  it('a 200 without a taskId may have created a task: maybeCreated, not retryable', async () => {
    bodies.set('/v1/videos/generations', { code: 0, data: {} });
    expect(await failure(client.submit(VALID_REQUEST))).toMatchObject({
      code: 'E_BAD_RESPONSE',
      maybeCreated: true,
      retryable: false,
    });
  });

  it('a failure code next to a task id is treated as maybe created', async () => {
    bodies.set('/v1/videos/generations', { code: 200, message: 'ok', data: { taskId: 'abc' } });
    expect(await failure(client.submit(VALID_REQUEST))).toMatchObject({
      code: 'E_BAD_RESPONSE',
      maybeCreated: true,
    });
  });

  it('upload reads data.fullPath, data.url, or a bare path on the provider origin', async () => {
    bodies.set('/v1/resources/upload', { code: 0, data: { fullPath: 'https://cdn.test/users/1/12.png' } });
    expect((await client.upload(TINY_PNG)).url).toBe('https://cdn.test/users/1/12.png');
    bodies.set('/v1/resources/upload', { code: 0, data: { url: 'https://cdn.test/2.png' } });
    expect((await client.upload(TINY_PNG)).url).toBe('https://cdn.test/2.png');
    bodies.set('/v1/resources/upload', { code: 0, data: { fullPath: '/users/1/3.png' } });
    expect((await client.upload(TINY_PNG)).url).toBe(`${server.url}/users/1/3.png`);
    bodies.set('/v1/resources/upload', { code: 0, data: { name: '3.png' } });
    expect(await failure(client.upload(TINY_PNG))).toMatchObject({
      code: 'E_BAD_RESPONSE',
      endpoint: 'upload',
    });
  });
});
