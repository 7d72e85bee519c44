import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, type Client, createClient } from '@flf2v/core';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_RETRY, KEY, sendJson, startServer, type TestServer, TINY_JPEG, TINY_PNG } from './_server.js';

let server: TestServer | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

/** Split a multipart body the simple way: enough to check what a provider would see. */
function parts(contentType: string, body: Buffer) {
  const boundary = /boundary=(.+)$/.exec(contentType)![1]!;
  const text = body.toString('latin1');
  return text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((chunk) => {
      const [head, ...rest] = chunk.split('\r\n\r\n');
      return { head: head!, data: Buffer.from(rest.join('\r\n\r\n').slice(0, -2), 'latin1') };
    });
}

async function uploadServer() {
  server = await startServer((_req, res, { n }) =>
    sendJson(res, 200, { code: 0, data: { fullPath: `https://cdn.test/u/${n}.png` } }),
  );
  client = createClient({ apiKey: KEY, baseUrl: server.url, retry: FAST_RETRY });
  return { server, client };
}

describe('upload', () => {
  it('sends a file path as multipart field "file" with a sniffed type and returns data.fullPath', async () => {
    const { server, client } = await uploadServer();
    const dir = await mkdtemp(join(tmpdir(), 'flf2v-up-'));
    try {
      const path = join(dir, '首帧.png');
      await writeFile(path, TINY_PNG);
      const res = await client.upload(path);
      expect(res.url).toBe('https://cdn.test/u/1.png');
      const req = server.requests[0]!;
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/v1/resources/upload');
      expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
      const [part] = parts(req.headers['content-type']!, req.body);
      expect(part!.head).toContain('name="file"');
      expect(part!.head).toContain('Content-Type: image/png');
      expect(part!.data.equals(TINY_PNG)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sends bytes, sniffing jpeg', async () => {
    const { server, client } = await uploadServer();
    await client.upload({ file: TINY_JPEG, filename: 'last.jpg' });
    const [part] = parts(server.requests[0]!.headers['content-type']!, server.requests[0]!.body);
    expect(part!.head).toContain('filename="last.jpg"');
    expect(part!.head).toContain('Content-Type: image/jpeg');
  });

  it('refuses what is not png/jpg, and missing files, before sending', async () => {
    const { server, client } = await uploadServer();
    for (const input of [Buffer.from('GIF89a...'), '/no/such/frame.png']) {
      const err = (await client.upload(input).catch((e) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code: 'E_INVALID_REQUEST', endpoint: 'upload', retryable: false });
    }
    expect(server.requests).toHaveLength(0);
  });

  it('retries a transient failure with the same body', async () => {
    server = await startServer((_req, res, { n }) =>
      n === 1
        ? sendJson(res, 502, 'x')
        : sendJson(res, 200, { code: 0, data: { fullPath: 'https://cdn.test/a.png' } }),
    );
    client = createClient({ apiKey: KEY, baseUrl: server.url, retry: FAST_RETRY });
    expect((await client.upload(TINY_PNG)).url).toBe('https://cdn.test/a.png');
    expect(server.requests[0]!.body.equals(server.requests[1]!.body)).toBe(true);
  });
});
