import { parseProviderTimestamp } from '@flf2v/core';
import { describe, expect, it } from 'vitest';

describe('parseProviderTimestamp', () => {
  it('reads the provider form: nanoseconds, offset and a bracketed zone id', () => {
    const d = parseProviderTimestamp('2026-02-02T10:44:54.716004004+08:00[Asia/Shanghai]');
    expect(d?.toISOString()).toBe('2026-02-02T02:44:54.716Z');
  });

  it('reads plain ISO 8601 with any fraction length, Z or an offset', () => {
    expect(parseProviderTimestamp('2026-02-02T02:44:54Z')?.toISOString()).toBe('2026-02-02T02:44:54.000Z');
    expect(parseProviderTimestamp('2026-02-02T02:44:54.7Z')?.toISOString()).toBe('2026-02-02T02:44:54.700Z');
    expect(parseProviderTimestamp('2026-02-02 10:44:54-0130')?.toISOString()).toBe(
      '2026-02-02T12:14:54.000Z',
    );
  });

  it('resolves a zone id when no offset is given, across DST', () => {
    expect(parseProviderTimestamp('2026-02-02T10:44:54[Asia/Shanghai]')?.toISOString()).toBe(
      '2026-02-02T02:44:54.000Z',
    );
    expect(parseProviderTimestamp('2026-07-01T12:00:00[Europe/Berlin]')?.toISOString()).toBe(
      '2026-07-01T10:00:00.000Z',
    );
    expect(parseProviderTimestamp('2026-01-01T12:00:00[Europe/Berlin]')?.toISOString()).toBe(
      '2026-01-01T11:00:00.000Z',
    );
  });

  it('reads epoch seconds and milliseconds', () => {
    expect(parseProviderTimestamp(1770000294)?.toISOString()).toBe('2026-02-02T02:44:54.000Z');
    expect(parseProviderTimestamp(1770000294716)?.toISOString()).toBe('2026-02-02T02:44:54.716Z');
    expect(parseProviderTimestamp('1770000294')?.toISOString()).toBe('2026-02-02T02:44:54.000Z');
  });

  it('returns undefined for garbage instead of an Invalid Date', () => {
    for (const bad of [
      '',
      'yesterday',
      '2026-02-30T10:00:00Z',
      '2026-02-02T10:44:54[Mars/Olympus]',
      null,
      {},
      12,
      Number.NaN,
    ]) {
      expect(parseProviderTimestamp(bad)).toBeUndefined();
    }
  });
});
