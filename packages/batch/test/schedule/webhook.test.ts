import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postWebhook, webhookTarget } from '../../src/schedule/webhook.js';

interface Received {
  method?: string;
  type?: string;
  body: string;
}

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(
    servers
      .splice(0)
      .map((s) => new Promise<void>((r) => s.close(() => r())).then(() => s.closeAllConnections())),
  );
});

/** A receiver on port 0 that answers request n (0-based) with `answer(n)`. */
async function receiver(answer: (n: number, res: ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      received.push({ method: req.method, type: req.headers['content-type'], body });
      answer(received.length - 1, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/s3cr3t-path`;
  return { url, received };
}

const FAST = { retryMaxMs: 200, timeoutMs: 2000 };

describe('webhook delivery', () => {
  it('POSTs the JSON body once when the receiver accepts it', async () => {
    const hook = await receiver((_, res) => res.writeHead(204).end());
    const result = await postWebhook(hook.url, '{"a":1}', FAST);
    expect(result).toEqual({ delivered: true, attempts: 1, status: 204 });
    expect(hook.received).toEqual([{ method: 'POST', type: 'application/json', body: '{"a":1}' }]);
  });

  it('retries after a 503 and a dropped connection, then delivers', async () => {
    const hook = await receiver((n, res) => {
      if (n === 0) res.writeHead(503).end('busy');
      else if (n === 1) res.socket?.destroy();
      else res.writeHead(200).end('ok');
    });
    const retries: number[] = [];
    const result = await postWebhook(hook.url, '{}', { ...FAST, onRetry: (i) => retries.push(i.attempt) });
    expect(result).toMatchObject({ delivered: true, attempts: 3, status: 200 });
    expect(retries).toEqual([1, 2]);
    expect(hook.received.every((r) => r.body === '{}')).toBe(true);
  });

  it('does not retry an answer that will not change (400, 404)', async () => {
    const hook = await receiver((_, res) => res.writeHead(404).end());
    expect(await postWebhook(hook.url, '{}', FAST)).toEqual({
      delivered: false,
      attempts: 1,
      status: 404,
      error: 'HTTP 404',
    });
  });

  it('gives up after the last attempt without throwing', async () => {
    const hook = await receiver((_, res) => res.writeHead(500).end());
    const result = await postWebhook(hook.url, '{}', { ...FAST, attempts: 3 });
    expect(result).toMatchObject({ delivered: false, attempts: 3, status: 500 });
    expect(hook.received).toHaveLength(3);
  });

  it('reports a receiver that is not there, and one that never answers', async () => {
    const gone = await receiver(() => {});
    servers[0]!.close();
    servers[0]!.closeAllConnections();
    const refused = await postWebhook(gone.url, '{}', { ...FAST, attempts: 2 });
    expect(refused.delivered).toBe(false);
    expect(refused.error).toMatch(/ECONNREFUSED|fetch failed/);
    const silent = await receiver(() => {});
    const timedOut = await postWebhook(silent.url, '{}', { ...FAST, attempts: 1, timeoutMs: 200 });
    expect(timedOut).toMatchObject({ delivered: false, error: 'timed out' });
  });

  it('stops retrying once the scheduler is stopping (the attempt in flight still goes out)', async () => {
    const hook = await receiver((_, res) => res.writeHead(503).end());
    const stop = new AbortController();
    stop.abort();
    const result = await postWebhook(hook.url, '{}', { ...FAST, signal: stop.signal });
    expect(result).toMatchObject({ delivered: false, attempts: 1 });
    expect(hook.received).toHaveLength(1);
  });

  it('honours a short Retry-After', async () => {
    const hook = await receiver((n, res) =>
      n === 0 ? res.writeHead(429, { 'retry-after': '0' }).end() : res.writeHead(200).end(),
    );
    expect(await postWebhook(hook.url, '{}', FAST)).toMatchObject({ delivered: true, attempts: 2 });
  });

  it('logs only the origin of a webhook URL (chat webhooks carry their secret in the path)', () => {
    expect(webhookTarget('https://hooks.example.com/services/T000/B000/XXXX')).toBe(
      'https://hooks.example.com',
    );
    expect(webhookTarget('not a url')).toBe('(invalid URL)');
  });
});
