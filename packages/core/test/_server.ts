/**
 * Real HTTP servers on port 0 for tests: each test says how the "provider" answers, request by request, and
 * inspects what actually arrived. No stubbed fetch, no mocked undici.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { ApiError } from '@flf2v/core';
import { expect } from 'vitest';

export const KEY = 'sk-test-9f8e7d6c5b4a39281706';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Ctx {
  /** 1-based index of this request among all requests to the server. */
  n: number;
  body: Buffer;
  requests: Recorded[];
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: Ctx) => void | Promise<void>;

export interface TestServer {
  url: string;
  origin: string;
  requests: Recorded[];
  /** Requests whose path (without query) is `path`. */
  count(path: string): number;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(rec);
      Promise.resolve(handler(req, res, { n: requests.length, body: rec.body, requests })).catch((error) => {
        res.destroy(error as Error);
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    origin,
    requests,
    count: (path) => requests.filter((r) => r.url.split('?')[0] === path).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Read the request, then drop the connection without answering: a reset after sending. */
export function resetAfterSend(_req: IncomingMessage, res: ServerResponse): void {
  res.socket?.destroy();
}

/** Never answer (a response timeout on the client). */
export function hang(): void {}

/** An http URL on which nothing listens: connection refused. */
export async function refusedUrl(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * A listening port that never completes new TCP handshakes: a worker binds it with backlog 1 and blocks its
 * event loop, and two idle connections fill the accept queue; further SYNs are dropped by the kernel, so a
 * client's connect times out — a real connect timeout on loopback.
 */
export async function startBlackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const worker = new Worker(
    `const net = require('node:net'); const { parentPort } = require('node:worker_threads');
     const s = net.createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(s.address().port);
       parentPort.once('message', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
     });`,
    { eval: true },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  worker.postMessage('block');
  await new Promise((r) => setTimeout(r, 50));
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of fillers) s.destroy();
      await worker.terminate();
    },
  };
}

/** A 1×1 PNG. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
/** A 1×1 JPEG (progressive). */
export const TINY_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);

export const VALID_REQUEST = {
  selected_model: 'Viduq2-pro-FLF2V-fast',
  task_type: 'flf2video' as const,
  input: {
    image: 'https://cdn.example.test/a.png',
    last_image: 'https://cdn.example.test/b.png',
    prompt: '小狗起身轻嗅',
    resolution: '720p' as const,
    duration: 5 as const,
  },
};

/** Fast retries for tests: the rules are the same, the waits are milliseconds. */
export const FAST_RETRY = {
  submit: { baseDelayMs: 1, maxDelayMs: 5 },
  query: { baseDelayMs: 1, maxDelayMs: 5 },
  upload: { baseDelayMs: 1, maxDelayMs: 5 },
  download: { baseDelayMs: 1, maxDelayMs: 5 },
};

/** The ApiError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the call to fail');
}
