import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttemptEvent, type Client, createClient } from '@flf2v/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAST_RETRY, failure, KEY, startServer, type TestServer } from './_server.js';

const VIDEO = randomBytes(200_000);
const SHA = createHash('sha256').update(VIDEO).digest('hex');
const ETAG = '"v1"';

let dir: string;
const servers: TestServer[] = [];
let client: Client | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flf2v-dl-'));
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  for (const s of servers.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

interface ServeOptions {
  /** Honour Range requests. @default true */
  range?: boolean;
  /** On these request numbers, send the headers for the whole remainder but cut the body after `cutBytes`. */
  cutOn?: number[];
  cutBytes?: number;
}

/** Serves VIDEO like a CDN: Content-Length, ETag, Range/If-Range, and optional cut-offs. */
function cdn(opts: ServeOptions = {}) {
  return (req: IncomingMessage, res: ServerResponse, ctx: { n: number }) => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    let start = 0;
    if (range && opts.range !== false && (!ifRange || ifRange === ETAG)) {
      start = Number(range[1]);
      if (start >= VIDEO.length) {
        res.writeHead(416, { 'content-range': `bytes */${VIDEO.length}` });
        res.end();
        return;
      }
      res.writeHead(206, {
        'content-range': `bytes ${start}-${VIDEO.length - 1}/${VIDEO.length}`,
        'content-length': VIDEO.length - start,
        etag: ETAG,
      });
    } else {
      res.writeHead(200, { 'content-length': VIDEO.length, etag: ETAG });
    }
    const body = VIDEO.subarray(start);
    if (opts.cutOn?.includes(ctx.n)) {
      res.write(body.subarray(0, opts.cutBytes ?? 50_000));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.end(body);
  };
}

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

function newClient(
  baseUrl = 'http://127.0.0.1:9',
  extra: Partial<Parameters<typeof createClient>[0]> = {},
): Client {
  client = createClient({ apiKey: KEY, baseUrl, retry: FAST_RETRY, ...extra });
  return client;
}

describe('download', () => {
  it('never saves an error page answered with 200 as the video (regression: chaos non-json on download)', async () => {
    const html = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
    });
    const dest = join(dir, 'videos', 'h.mp4');
    const err = await failure(newClient().download(`${html.url}/v/h.mp4`, dest));
    expect(err).toMatchObject({ code: 'E_DOWNLOAD', retryable: true });
    expect(existsSync(dest)).toBe(false);
    // The same page with a video content type is caught by its bytes.
    const disguised = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      res.end('  <!doctype html><p>maintenance</p>');
    });
    const err2 = await failure(newClient().download(`${disguised.url}/v/h.mp4`, dest));
    expect(err2).toMatchObject({ code: 'E_DOWNLOAD', message: expect.stringContaining('text document') });
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('E_LOCAL_IO, not retried, when the destination cannot be written (a local problem, not the provider)', async () => {
    const server = await serve(cdn());
    // A file where the videos directory should be: the part file cannot be created (as with a full disk).
    await writeFile(join(dir, 'videos'), 'not a directory');
    const events: AttemptEvent[] = [];
    const err = await failure(
      newClient(undefined, { onAttempt: (e) => events.push(e) }).download(
        `${server.url}/v/a.mp4`,
        join(dir, 'videos', 'a.mp4'),
      ),
    );
    expect(err).toMatchObject({ code: 'E_LOCAL_IO', retryable: false });
    expect(err.message).toMatch(/the part file \(ENOTDIR\)/);
    expect(events.filter((e) => e.willRetry)).toHaveLength(0);
  });

  it('streams to the destination with size and sha256, leaving no .part', async () => {
    const s = await serve(cdn());
    const dest = join(dir, 'videos', 'a.mp4');
    const res = await newClient().download(`${s.url}/v/a.mp4?sig=abc`, dest);
    expect(res).toEqual({ bytes: VIDEO.length, sha256: SHA });
    expect((await readFile(dest)).equals(VIDEO)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('a part file renamed away by another download of the same video (a second worker) is the same success', async () => {
    const dest = join(dir, 'videos', 'a.mp4');
    const s = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-length': VIDEO.length, etag: ETAG });
      res.write(VIDEO.subarray(0, 100_000));
      // Meanwhile the other download finished: its part file, renamed over the destination.
      await new Promise((r) => setTimeout(r, 100));
      await writeFile(dest, VIDEO);
      await rm(`${dest}.part`, { force: true });
      res.end(VIDEO.subarray(100_000));
    });
    expect(await newClient().download(`${s.url}/v/a.mp4`, dest)).toEqual({
      bytes: VIDEO.length,
      sha256: SHA,
    });
    expect((await readFile(dest)).equals(VIDEO)).toBe(true);
  });

  it('resumes with Range across attempts when the body breaks off', async () => {
    const s = await serve(cdn({ cutOn: [1], cutBytes: 64_000 }));
    const dest = join(dir, 'a.mp4');
    const events: AttemptEvent[] = [];
    const res = await newClient(undefined, { onAttempt: (e) => events.push(e) }).download(
      `${s.url}/a.mp4`,
      dest,
    );
    expect(res).toEqual({ bytes: VIDEO.length, sha256: SHA });
    expect(s.requests).toHaveLength(2);
    const resumed = Number(/bytes=(\d+)-/.exec(s.requests[1]!.headers.range ?? '')?.[1]);
    expect(resumed).toBeGreaterThanOrEqual(64_000);
    expect(s.requests[1]!.headers['if-range']).toBe(ETAG);
    expect(events.map((e) => [e.endpoint, e.callClass, e.code, e.willRetry])).toEqual([
      ['download', 'download', 'E_NETWORK', true],
      ['download', 'download', undefined, false],
    ]);
  });

  it('resumes a .part left by an earlier process', async () => {
    const s = await serve(cdn());
    const dest = join(dir, 'a.mp4');
    await writeFile(`${dest}.part`, VIDEO.subarray(0, 123_456));
    const res = await newClient().download(`${s.url}/a.mp4`, dest);
    expect(res).toEqual({ bytes: VIDEO.length, sha256: SHA });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]!.headers.range).toBe('bytes=123456-');
    expect((await readFile(dest)).equals(VIDEO)).toBe(true);
  });

  it('restarts from zero when the server ignores Range', async () => {
    const s = await serve(cdn({ range: false }));
    const dest = join(dir, 'a.mp4');
    await writeFile(`${dest}.part`, Buffer.from('garbage that must not survive'));
    expect(await newClient().download(`${s.url}/a.mp4`, dest)).toEqual({ bytes: VIDEO.length, sha256: SHA });
  });

  it('finishes a complete .part on 416 without downloading again', async () => {
    const s = await serve(cdn());
    const dest = join(dir, 'a.mp4');
    await writeFile(`${dest}.part`, VIDEO);
    expect(await newClient().download(`${s.url}/a.mp4`, dest)).toEqual({ bytes: VIDEO.length, sha256: SHA });
    expect(s.requests[0]!.headers.range).toBe(`bytes=${VIDEO.length}-`);
  });

  for (const status of [403, 404, 410]) {
    it(`HTTP ${status} on a result URL is E_URL_EXPIRED: not retried, .part kept, query string hidden`, async () => {
      const expired = await serve((_req, res) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      });
      const dest = join(dir, 'a.mp4');
      await writeFile(`${dest}.part`, VIDEO.subarray(0, 1000));
      const err = await failure(
        newClient().download(`${expired.url}/a.mp4?X-Signature=s3cr3t&Expires=1`, dest),
      );
      expect(err).toMatchObject({ code: 'E_URL_EXPIRED', retryable: true, status, attempts: 1 });
      expect(err.path).toBe(`${expired.url}/a.mp4`);
      expect(JSON.stringify(err.toJSON())).not.toContain('s3cr3t');
      expect(err.message).not.toContain('s3cr3t');
      expect(expired.requests).toHaveLength(1);
      expect(existsSync(`${dest}.part`)).toBe(true);
      // A fresh URL resumes where the expired one stopped.
      const fresh = await serve(cdn());
      expect(await client!.download(`${fresh.url}/a.mp4?sig=new`, dest)).toEqual({
        bytes: VIDEO.length,
        sha256: SHA,
      });
      expect(fresh.requests[0]!.headers.range).toBe('bytes=1000-');
    });
  }

  it('E_DOWNLOAD when fewer bytes arrive than announced; the retry resumes and completes', async () => {
    const s = await serve((req, res, ctx) => {
      if (ctx.n === 1) {
        // Chunked (no Content-Length), cleanly ended, but Content-Range promised the whole file.
        res.writeHead(206, { 'content-range': `bytes 0-${VIDEO.length - 1}/${VIDEO.length}` });
        res.end(VIDEO.subarray(0, 5000));
        return;
      }
      cdn()(req, res, ctx);
    });
    const events: AttemptEvent[] = [];
    const dest = join(dir, 'a.mp4');
    expect(
      await newClient(undefined, { onAttempt: (e) => events.push(e) }).download(`${s.url}/a.mp4`, dest),
    ).toEqual({
      bytes: VIDEO.length,
      sha256: SHA,
    });
    expect(events[0]).toMatchObject({ code: 'E_DOWNLOAD', willRetry: true });
    expect(s.requests[1]!.headers.range).toBe('bytes=5000-');
  });

  it('retries 5xx and follows redirects', async () => {
    const target = await serve(cdn());
    const s = await serve((_req, res, { n }) => {
      if (n === 1) {
        res.writeHead(500);
        res.end();
        return;
      }
      res.writeHead(302, { location: `${target.url}/real.mp4` });
      res.end();
    });
    expect(await newClient().download(`${s.url}/a.mp4`, join(dir, 'a.mp4'))).toEqual({
      bytes: VIDEO.length,
      sha256: SHA,
    });
    expect(s.requests).toHaveLength(2);
  });

  it('sends the key only to the provider origin, never to a CDN or after a cross-origin redirect', async () => {
    const provider = await serve(cdn());
    const cdnServer = await serve(cdn());
    const c = newClient(provider.url);
    await c.download(`${provider.url}/a.mp4`, join(dir, 'a.mp4'));
    await c.download(`${cdnServer.url}/b.mp4`, join(dir, 'b.mp4'));
    expect(provider.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(cdnServer.requests[0]!.headers.authorization).toBeUndefined();
    const p2 = await serve((_req, res) => {
      res.writeHead(302, { location: `${cdnServer.url}/y.mp4` });
      res.end();
    });
    await c.close();
    const c2 = newClient(p2.url);
    await c2.download(`${p2.url}/c.mp4`, join(dir, 'c.mp4'));
    expect(p2.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(cdnServer.requests[1]!.headers.authorization).toBeUndefined();
  });

  it('rejects a non-http URL without a request', async () => {
    expect(await failure(newClient().download('file:///etc/passwd', join(dir, 'a.mp4')))).toMatchObject({
      code: 'E_INVALID_REQUEST',
    });
  });
});
