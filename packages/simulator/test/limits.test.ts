import { describe, expect, it } from 'vitest';
import { body, fakeClock, png, result, start, status, submit, submitTask, upload } from './_helpers.js';

describe('rate limits', () => {
  it('limits submissions per key in a sliding window, with Retry-After in seconds', async () => {
    const t = fakeClock();
    const sim = await start({ clock: t.clock, limits: { submit: { max: 2, windowMs: 10_000 } } });
    await submitTask(sim);
    t.advance(4000);
    await submitTask(sim);
    const r = await submit(sim, body());
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('6');
    expect(r.body.code).not.toBe(0);
    // Another key has its own window.
    expect((await submit(sim, body(), { authorization: 'Bearer sk-other' })).status).toBe(200);
    t.advance(6000);
    expect((await submit(sim, body())).status).toBe(200);
    const ledger = sim.ledger();
    expect(ledger.rateLimited.submit).toBe(1);
    expect(ledger.submissions.rejected).toEqual({ 'rate-limit': 1 });
    expect(ledger.submissions.accepted).toHaveLength(4);
  });

  it('can state Retry-After as an HTTP-date, never earlier than the window allows', async () => {
    const t = fakeClock(Date.UTC(2026, 0, 1, 0, 0, 0, 300));
    const sim = await start({
      clock: t.clock,
      limits: { submit: { max: 1, windowMs: 1500 } },
      responses: { retryAfterFormat: 'http-date' },
    });
    await submitTask(sim);
    const r = await submit(sim, body());
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('Thu, 01 Jan 2026 00:00:02 GMT');
    const [entry] = sim.ledger().requests.log.filter((e) => e.status === 429);
    expect(entry?.retryAfterMs).toBe(1700);
  });

  it('limits status and result queries together', async () => {
    const t = fakeClock();
    const sim = await start({ clock: t.clock, limits: { query: { max: 3, windowMs: 1000 } } });
    const id = await submitTask(sim);
    expect((await status(sim, id)).status).toBe(200);
    expect((await result(sim, id)).status).toBe(200);
    expect((await status(sim, id)).status).toBe(200);
    const r = await result(sim, id);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    t.advance(1000);
    expect((await status(sim, id)).status).toBe(200);
    const ledger = sim.ledger();
    expect(ledger.rateLimited).toMatchObject({ status: 0, result: 1 });
    expect(ledger.queries).toEqual({ status: 3, result: 1, byTask: { [id]: { status: 3, result: 1 } } });
  });

  it('limits uploads when configured', async () => {
    const sim = await start({ limits: { upload: { max: 1, windowMs: 60_000 } } });
    expect((await upload(sim, png(4, 4))).status).toBe(200);
    const r = await upload(sim, png(4, 4));
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('can be lifted at runtime', async () => {
    const t = fakeClock();
    const sim = await start({ clock: t.clock, limits: { submit: { max: 1, windowMs: 60_000 } } });
    await submitTask(sim);
    expect((await submit(sim, body())).status).toBe(429);
    sim.update({ limits: { submit: null } });
    for (let i = 0; i < 5; i++) expect((await submit(sim, body())).status).toBe(200);
  });

  it('logs each request with its key fingerprint and announced wait', async () => {
    const t = fakeClock();
    const sim = await start({ clock: t.clock, limits: { submit: { max: 1, windowMs: 2000 } } });
    await submitTask(sim);
    t.advance(500);
    await submit(sim, body());
    const log = sim.ledger().requests.log;
    expect(log).toEqual([
      { at: t.now - 500, endpoint: 'submit', status: 200, key: expect.stringMatching(/^key-/) },
      { at: t.now, endpoint: 'submit', status: 429, key: log[0]!.key, retryAfterMs: 2000 },
    ]);
  });
});
