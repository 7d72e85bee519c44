import { DEFAULT_RETRY, DEFAULT_TIMEOUTS, isFlf2vError, normalizeClientOptions } from '@flf2v/core';
import { describe, expect, it } from 'vitest';
import { KEY } from './_server.js';

function configMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isFlf2vError(error, 'E_CONFIG')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected E_CONFIG');
}

describe('normalizeClientOptions', () => {
  it('fills every default', () => {
    const o = normalizeClientOptions({ apiKey: KEY });
    expect(o.baseUrl).toBe('https://cloud.baicaiinfer.com');
    expect(o.routes.submit).toEqual({
      origin: 'https://cloud.baicaiinfer.com',
      pathHead: '/v1/videos/generations',
      pathTail: '',
    });
    expect(o.routes.status).toEqual({
      origin: 'https://cloud.baicaiinfer.com',
      pathHead: '/v1/comfyui/tasks/',
      pathTail: '/status',
    });
    expect(o.timeouts).toEqual(DEFAULT_TIMEOUTS);
    expect(o.retry).toEqual(DEFAULT_RETRY);
    expect(
      o.isModeration('The content contains inappropriate information and does not pass the review.'),
    ).toBe(true);
    expect(o.isRateLimit('请求过于频繁')).toBe(true);
    expect(o.isRateLimit('quota exhausted')).toBe(false);
  });

  it('merges per-class overrides and keeps a base path prefix', () => {
    const o = normalizeClientOptions({
      apiKey: KEY,
      baseUrl: 'http://127.0.0.1:9/api/',
      endpoints: { upload: '/files', result: 'https://other.test/r/{taskId}' },
      timeouts: { query: { headersMs: 5 } },
      retry: { submit: { attempts: 1 } },
      moderationPatterns: [/nope/],
    });
    expect(o.routes.upload).toEqual({ origin: 'http://127.0.0.1:9', pathHead: '/api/files', pathTail: '' });
    expect(o.routes.result).toEqual({ origin: 'https://other.test', pathHead: '/r/', pathTail: '' });
    expect(o.timeouts.query).toEqual({ ...DEFAULT_TIMEOUTS.query, headersMs: 5 });
    expect(o.retry.submit.attempts).toBe(1);
    expect(o.retry.query).toEqual(DEFAULT_RETRY.query);
    expect(o.isModeration('nope')).toBe(true);
    expect(o.isModeration('inappropriate information')).toBe(false);
  });

  it('says what was expected and what was found', () => {
    expect(configMessage(() => normalizeClientOptions({ apiKey: '' }))).toMatch(/apiKey.*BAICAI_API_KEY/);
    expect(configMessage(() => normalizeClientOptions({ apiKey: KEY, baseUrl: 'ftp://x' }))).toBe(
      'Expected `baseUrl` to be an http(s) URL, got "ftp://x"',
    );
    expect(
      configMessage(() => normalizeClientOptions({ apiKey: KEY, retry: { query: { attempts: 0 } } })),
    ).toBe('Expected `retry.query.attempts` to be a finite integer >= 1, got 0');
    expect(
      configMessage(() => normalizeClientOptions({ apiKey: KEY, retry: { poll: {} } as never })),
    ).toMatch(/Unknown key `retry.poll`/);
    expect(
      configMessage(() =>
        normalizeClientOptions({ apiKey: KEY, timeouts: { query: { headerMs: 1 } as never } }),
      ),
    ).toMatch(/Unknown key `timeouts.query.headerMs`/);
    expect(
      configMessage(() => normalizeClientOptions({ apiKey: KEY, endpoints: { status: '/tasks/status' } })),
    ).toMatch(/endpoints.status.*exactly one `\{taskId\}`/);
    expect(
      configMessage(() => normalizeClientOptions({ apiKey: KEY, rules: { promptMaxChars: -1 } })),
    ).toMatch(/rules.promptMaxChars/);
  });

  it('never echoes a malformed key', () => {
    const bad = 'sk-secret value\n';
    const message = configMessage(() => normalizeClientOptions({ apiKey: bad }));
    expect(message).not.toContain('secret');
    const url = configMessage(() =>
      normalizeClientOptions({ apiKey: KEY, baseUrl: `https://u:${KEY}@x.test` }),
    );
    expect(url).not.toContain(KEY);
  });
});
