import { describe, expect, it } from 'vitest';
import { AUTH, body, call, KEY, png, result, start, status, submit, submitTask, upload } from './_helpers.js';

describe('ledger', () => {
  it('GET /__sim/ledger serves the same snapshot as ledger(), read-only', async () => {
    const sim = await start({ key: KEY });
    await upload(sim, png(8, 8));
    const id = await submitTask(sim);
    await status(sim, id);
    await result(sim, id);
    const served = await call(`${sim.url}/__sim/ledger`);
    expect(served.status).toBe(200);
    expect(served.body).toEqual(sim.ledger());
    expect((await call(`${sim.url}/__sim/ledger`, { method: 'POST' })).status).toBe(405);
  });

  it('holds every part the tests rely on', async () => {
    const sim = await start();
    await upload(sim, png(8, 8));
    const id = await submitTask(sim);
    await submit(sim, body({ duration: 9 }));
    await status(sim, id);
    await status(sim, id);
    const [url] = (await result(sim, id)).body.data.urls;
    await fetch(url);
    const l = sim.ledger();
    expect(l.submissions.accepted.map((a) => a.taskId)).toEqual([id]);
    expect(l.submissions.rejected).toEqual({ validation: 1 });
    expect(Object.values(l.uploads)[0]!.count).toBe(1);
    expect(l.queries).toEqual({ status: 2, result: 1, byTask: { [id]: { status: 2, result: 1 } } });
    expect(l.tasks).toMatchObject({ total: 1, maxConcurrentRunning: 1, maxInFlight: 1 });
    expect(l.videos).toEqual([
      {
        taskId: id,
        index: 0,
        sha256: expect.any(String),
        bytes: expect.any(Number),
        downloads: 1,
        rangeRequests: 0,
      },
    ]);
    expect(l.requests.counts).toEqual({ upload: 1, submit: 2, status: 2, result: 1, download: 1 });
    expect(l.requests.log.map((e) => e.endpoint)).toEqual([
      'upload',
      'submit',
      'submit',
      'status',
      'status',
      'result',
      'download',
    ]);
    expect(l.requests.dropped).toBe(0);
  });

  it('never holds an API key, only its fingerprint', async () => {
    const sim = await start();
    await submitTask(sim);
    await status(sim, 'x', { authorization: 'Bearer sk-secret-the-second' });
    const text = JSON.stringify(sim.ledger());
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('sk-secret-the-second');
    expect(text).not.toContain(AUTH.authorization);
  });

  it('keeps the request log bounded, counting what it dropped', async () => {
    const sim = await start({ requestLogLimit: 3 });
    for (let i = 0; i < 5; i++) await status(sim, `t${i}`);
    let l = sim.ledger();
    expect(l.requests.log).toHaveLength(3);
    expect(l.requests.dropped).toBe(2);
    expect(l.requests.counts.status).toBe(5);
    sim.update({ requestLogLimit: 1 });
    l = sim.ledger();
    expect(l.requests.log).toHaveLength(1);
    expect(l.requests.dropped).toBe(4);
  });

  it('is a snapshot: later requests do not change an earlier copy', async () => {
    const sim = await start();
    const before = sim.ledger();
    await submitTask(sim);
    expect(before.submissions.accepted).toEqual([]);
    expect(sim.ledger().submissions.accepted).toHaveLength(1);
  });
});
