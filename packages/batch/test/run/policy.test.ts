import { describe, expect, it } from 'vitest';
import { backoffMs, TASK_POLICY, TaskRetries, verdictOf } from '../../src/run/policy.js';

describe('the task policy table', () => {
  it('gives every code one verdict', () => {
    const table = {
      fatal: ['E_AUTH', 'E_CONFIG', 'E_STATE', 'E_LOCAL_IO', 'E_JOURNAL_CORRUPT', 'E_BACKEND'],
      stopped: ['E_ABORTED', 'E_TASK_TAKEN'],
      struggling: ['E_RATE_LIMITED', 'E_SERVER', 'E_NETWORK', 'E_TIMEOUT'],
      broken: ['E_BAD_RESPONSE', 'E_DOWNLOAD'],
      expired: ['E_URL_EXPIRED'],
      refused: ['E_PROVIDER', 'E_MODERATION', 'E_INVALID_REQUEST', 'E_INTERNAL', 'E_TASK_FAILED'],
    };
    for (const [verdict, codes] of Object.entries(table)) {
      for (const code of codes) expect([code, verdictOf(code)]).toEqual([code, verdict]);
    }
  });

  it('struggling never fails a task; broken fails after brokenInRow in a row; a success resets', () => {
    const r = new TaskRetries(true);
    for (let i = 0; i < 100; i++) expect(r.fails('struggling')).toBe(false);
    for (let i = 1; i < TASK_POLICY.brokenInRow; i++) expect(r.fails('broken')).toBe(false);
    r.succeeded();
    for (let i = 1; i < TASK_POLICY.brokenInRow; i++) expect(r.fails('broken')).toBe(false);
    expect(r.fails('broken')).toBe(true);
  });

  it('a refusal fails at once before the provider has the task, after confirmRefusals once it has', () => {
    expect(new TaskRetries(false).fails('refused')).toBe(true);
    const r = new TaskRetries(true);
    for (let i = 1; i < TASK_POLICY.confirmRefusals; i++) expect(r.fails('refused')).toBe(false);
    expect(r.fails('refused')).toBe(true);
    // Another kind of failure in between starts the count again.
    const s = new TaskRetries(true);
    s.fails('refused');
    s.fails('struggling');
    s.fails('refused');
    expect(s.streak).toBe(1);
  });

  it('backs off with full jitter, capped, never under a Retry-After', () => {
    expect(backoffMs(1, 0, () => 0.999)).toBeLessThan(2 * TASK_POLICY.backoff.baseMs);
    expect(backoffMs(30, 0, () => 0.999)).toBeLessThanOrEqual(TASK_POLICY.backoff.maxMs);
    expect(backoffMs(1, 5_000, () => 0)).toBe(5_000);
  });
});

describe('TaskRetries backoff', () => {
  it('waits up to backoff.baseMs before the first retry, doubling after', () => {
    const r = new TaskRetries(true, () => 0.999);
    r.fails('struggling');
    expect(r.delayMs()).toBeLessThan(TASK_POLICY.backoff.baseMs);
    r.fails('struggling');
    expect(r.delayMs()).toBeGreaterThan(TASK_POLICY.backoff.baseMs);
    expect(r.delayMs()).toBeLessThan(2 * TASK_POLICY.backoff.baseMs);
  });
});
