import { type CallClass, type CallOutcome, type Client, createClient } from '@flf2v/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAST_RETRY,
  failure,
  KEY,
  sendJson,
  startServer,
  type TestServer,
  VALID_REQUEST,
} from './_server.js';

/**
 * `beforeSend` (where a caller makes its intent durable) runs once the gate has granted the attempt, just
 * before its request; `waitSignal` cuts the waits before a request (the gate, a backoff), never a request on the
 * wire. Together: an intent is never written long before its POST, and a stop never turns a POST into an unknown.
 */

let server: TestServer | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

const OK = { code: 0, data: { taskId: 'T' } };

/** A gate that logs, and optionally holds every acquire until its signal aborts. */
function loggingGate(log: string[], hold = false) {
  return {
    acquire: (cls: CallClass, signal?: AbortSignal) => {
      log.push(`acquire ${cls}`);
      if (!hold) return Promise.resolve();
      return new Promise<void>((_resolve, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true }),
      );
    },
    settle: (cls: CallClass, outcome: CallOutcome) => {
      log.push(`settle ${cls} ${outcome.status ?? '-'}`);
    },
  };
}

describe('beforeSend', () => {
  it('runs on every attempt after the gate granted it and before its request leaves', async () => {
    server = await startServer((_req, res, { n }) =>
      n === 1 ? sendJson(res, 429, {}, { 'retry-after': '0' }) : sendJson(res, 200, OK),
    );
    const log: string[] = [];
    client = createClient({ apiKey: KEY, baseUrl: server.url, retry: FAST_RETRY, gate: loggingGate(log) });
    const result = await client.submit(VALID_REQUEST, {
      beforeSend: () => {
        log.push(`before (${server!.requests.length} sent)`);
        return undefined;
      },
    });
    expect(result.taskId).toBe('T');
    expect(log).toEqual([
      'acquire submit',
      'before (0 sent)',
      'settle submit 429',
      'acquire submit',
      'before (1 sent)',
      'settle submit 200',
    ]);
  });

  it('false sends nothing: E_ABORTED, not created, the gate slot handed back', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, OK));
    const log: string[] = [];
    client = createClient({ apiKey: KEY, baseUrl: server.url, gate: loggingGate(log) });
    const err = await failure(client.submit(VALID_REQUEST, { beforeSend: () => false }));
    expect(err).toMatchObject({ code: 'E_ABORTED', maybeCreated: false });
    expect(server.requests).toHaveLength(0);
    expect(log).toEqual(['acquire submit', 'settle submit -']);
  });

  it('a rejection (a journal that cannot be written) is rethrown as is, and nothing is sent', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, OK));
    const log: string[] = [];
    client = createClient({ apiKey: KEY, baseUrl: server.url, gate: loggingGate(log) });
    const disk = new Error('ENOSPC: no space left on device');
    await expect(
      client.submit(VALID_REQUEST, {
        beforeSend: async () => {
          throw disk;
        },
      }),
    ).rejects.toBe(disk);
    expect(server.requests).toHaveLength(0);
    expect(log).toEqual(['acquire submit', 'settle submit -']);
  });
});

describe('waitSignal', () => {
  it('cuts the wait for the gate: nothing sent, beforeSend never called', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, OK));
    const log: string[] = [];
    client = createClient({ apiKey: KEY, baseUrl: server.url, gate: loggingGate(log, true) });
    let called = false;
    const err = await failure(
      client.submit(VALID_REQUEST, {
        waitSignal: AbortSignal.timeout(50),
        beforeSend: () => {
          called = true;
          return undefined;
        },
      }),
    );
    expect(err).toMatchObject({ code: 'E_ABORTED', maybeCreated: false });
    expect(called).toBe(false);
    expect(server.requests).toHaveLength(0);
  });

  it('cuts a backoff: one request, then E_ABORTED, not created', async () => {
    server = await startServer((_req, res) => sendJson(res, 503, {}, { 'retry-after': '30' }));
    client = createClient({ apiKey: KEY, baseUrl: server.url });
    const err = await failure(client.submit(VALID_REQUEST, { waitSignal: AbortSignal.timeout(100) }));
    expect(err).toMatchObject({ code: 'E_ABORTED', maybeCreated: false });
    expect(server.requests).toHaveLength(1);
  });

  it('never cuts a request on the wire: the answer that comes after it fired is the outcome', async () => {
    let answer: (() => void) | undefined;
    server = await startServer((_req, res) => {
      answer = () => sendJson(res, 200, OK);
    });
    client = createClient({ apiKey: KEY, baseUrl: server.url });
    const stop = new AbortController();
    const pending = client.submit(VALID_REQUEST, { waitSignal: stop.signal });
    while (!answer) await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    answer();
    expect((await pending).taskId).toBe('T');
  });
});
