import { parseRetryAfter } from '@flf2v/core';
import { describe, expect, it } from 'vitest';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-02-02T10:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1500);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });

  it('reads all three HTTP-date forms; a past date means now', () => {
    expect(parseRetryAfter('Mon, 02 Feb 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Monday, 02-Feb-26 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon Feb  2 10:00:30 2026', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 01 Feb 2026 10:00:00 GMT', now)).toBe(0);
  });

  it('ignores garbage', () => {
    for (const bad of [
      undefined,
      null,
      '',
      'soon',
      '-5',
      '1e3',
      '5 seconds',
      '2026-02-02T10:00:30Z',
      'Mon, 99 Foo 2026',
    ]) {
      expect(parseRetryAfter(bad as string, now)).toBeUndefined();
    }
  });
});
