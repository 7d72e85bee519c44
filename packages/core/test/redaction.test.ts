import { inspect } from 'node:util';
import { type Client, createClient, type Logger, redactText, redactUrl } from '@flf2v/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KEY,
  refusedUrl,
  resetAfterSend,
  sendJson,
  startServer,
  type TestServer,
  VALID_REQUEST,
} from './_server.js';

/**
 * The key must not appear in any log line, error message, `cause` chain or serialized error — even when the
 * server echoes it back. Every line and every error is searched for it.
 */

let server: TestServer | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (obj: object, msg?: string) =>
    lines.push(JSON.stringify({ level, ...obj, msg }));
  return {
    lines,
    logger: {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      isLevelEnabled: () => true,
    },
  };
}

/** Every way an error could be shown or stored. */
function renderings(error: unknown): string[] {
  const out = [String(error), inspect(error, { depth: 10 }), JSON.stringify(error)];
  let e: unknown = error;
  for (let i = 0; e instanceof Error && i < 10; i++, e = e.cause)
    out.push(e.message, e.stack ?? '', inspect(e, { depth: 10 }));
  return out;
}

describe('redaction', () => {
  it('keeps the key out of logs and errors when the server echoes it everywhere', async () => {
    const echo = `key ${KEY} is not valid; Authorization: Bearer ${KEY}`;
    server = await startServer((req, res) => {
      if (req.url?.includes('/status')) return sendJson(res, 401, { message: echo });
      if (req.url?.includes('/result')) return sendJson(res, 200, { code: 5, message: echo });
      if (req.url?.includes('/upload')) return sendJson(res, 200, `not json ${echo}`);
      return sendJson(res, 500, echo);
    });
    const { logger, lines } = capture();
    client = createClient({
      apiKey: KEY,
      baseUrl: server.url,
      logger,
      retry: { query: { attempts: 1 }, upload: { attempts: 1 } },
    });
    const errors = [
      await client.status('t').catch((e) => e),
      await client.result('t').catch((e) => e),
      await client.upload(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])).catch((e) => e),
      await client.submit(VALID_REQUEST).catch((e) => e),
    ];
    expect(errors.map((e) => e.code)).toEqual(['E_AUTH', 'E_PROVIDER', 'E_BAD_RESPONSE', 'E_SERVER']);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const text of [...lines, ...errors.flatMap(renderings)]) expect(text).not.toContain(KEY);
    expect(errors[0].providerMessage).toContain('[REDACTED]');
  });

  it('keeps the key out of cause chains from the network layer', async () => {
    const { logger, lines } = capture();
    client = createClient({
      apiKey: KEY,
      baseUrl: await refusedUrl(),
      logger,
      retry: { submit: { attempts: 2, baseDelayMs: 1 } },
    });
    const err = await client.submit(VALID_REQUEST).catch((e) => e);
    expect(err.cause).toBeInstanceOf(Error);
    for (const text of [...lines, ...renderings(err)]) expect(text).not.toContain(KEY);
    server = await startServer(resetAfterSend);
    const c2 = createClient({ apiKey: KEY, baseUrl: server.url, logger });
    const err2 = await c2.submit(VALID_REQUEST).catch((e) => e);
    await c2.close();
    for (const text of [...lines, ...renderings(err2)]) expect(text).not.toContain(KEY);
  });

  it('redactText and redactUrl', () => {
    expect(redactText(`a ${KEY} b Bearer xyz`, [KEY])).toBe('a [REDACTED] b Bearer [REDACTED]');
    expect(redactUrl('https://user:pw@cdn.test/v/a.mp4?X-Amz-Signature=abc#frag')).toBe(
      'https://cdn.test/v/a.mp4',
    );
    expect(redactUrl('not a url?sig=1')).toBe('not a url');
  });
});
