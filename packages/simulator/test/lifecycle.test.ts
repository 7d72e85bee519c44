import { describe, expect, it } from 'vitest';
import { body, fakeClock, result, start, stateOf, status, submit, submitTask } from './_helpers.js';

describe('task lifecycle', () => {
  it('goes PENDING → RUNNING → COMPLETED with progress, on the clock', async () => {
    const t = fakeClock();
    const sim = await start({ clock: t.clock, timings: { pendingMs: 1000, runningMs: 4000 } });
    const id = await submitTask(sim);
    expect(await stateOf(sim, id)).toEqual({ status: 'PENDING', progress: '0%' });
    t.advance(1000);
    expect(await stateOf(sim, id)).toEqual({ status: 'RUNNING', progress: '1%' });
    t.advance(2000);
    expect(await stateOf(sim, id)).toEqual({ status: 'RUNNING', progress: '50%' });
    const early = await result(sim, id);
    expect(early.body).toMatchObject({ code: 40005, message: 'task not finished: RUNNING' });
    t.advance(2000);
    expect(await stateOf(sim, id)).toEqual({ status: 'COMPLETED', progress: '100%' });
    const done = await result(sim, id);
    expect(done.body.code).toBe(0);
    expect(done.body.data.urls).toHaveLength(1);
  });

  it('gives one URL per requested video', async () => {
    const sim = await start();
    const id = await submitTask(sim, { number_of_videos: 3 });
    const r = await result(sim, id);
    expect(r.body.data.urls).toHaveLength(3);
    expect(r.body.data.urls[2]).toMatch(
      new RegExp(`^${sim.url}/videos/${id}/2\\.mp4\\?expires=\\d+&sig=[0-9a-f]{32}$`),
    );
  });

  it('ends FAILED when the prompt matches the failure pattern', async () => {
    const sim = await start({ failPattern: 'doomed' });
    const id = await submitTask(sim, { prompt: 'this one is DOOMED' });
    const s = await stateOf(sim, id);
    expect(s).toMatchObject({ status: 'FAILED', message: expect.stringMatching(/generation failed/) });
    const r = await result(sim, id);
    expect(r.body).toMatchObject({ code: 40006, message: expect.stringMatching(/generation failed/) });
    expect((await stateOf(sim, await submitTask(sim, { prompt: 'fine' }))).status).toBe('COMPLETED');
  });

  it('fails a seeded share of tasks with failureRate', async () => {
    const outcomes = async (seed: number) => {
      const sim = await start({ seed, failureRate: 0.5 });
      const states: string[] = [];
      for (let i = 0; i < 20; i++) states.push((await stateOf(sim, await submitTask(sim))).status);
      return states;
    };
    const a = await outcomes(1);
    expect(a).toContain('FAILED');
    expect(a).toContain('COMPLETED');
    expect(await outcomes(1)).toEqual(a);
  });

  it('takes running time from a table by resolution and duration, or a function', async () => {
    const t = fakeClock();
    const sim = await start({
      clock: t.clock,
      timings: { runningMs: { '1080p/8': 9000, '1080p': 5000, '*': 1000 } },
    });
    const a = await submitTask(sim, { resolution: '1080p', duration: 8 });
    const b = await submitTask(sim, { resolution: '1080p', duration: 5 });
    const c = await submitTask(sim, { resolution: '720p' });
    t.advance(1000);
    expect([
      (await stateOf(sim, a)).status,
      (await stateOf(sim, b)).status,
      (await stateOf(sim, c)).status,
    ]).toEqual(['RUNNING', 'RUNNING', 'COMPLETED']);
    t.advance(4000);
    expect((await stateOf(sim, b)).status).toBe('COMPLETED');
    expect((await stateOf(sim, a)).status).toBe('RUNNING');

    const sim2 = await start({ clock: t.clock, timings: { runningMs: (task) => task.duration * 1000 } });
    const d = await submitTask(sim2, { duration: 6 });
    t.advance(5999);
    expect((await stateOf(sim2, d)).status).toBe('RUNNING');
    t.advance(1);
    expect((await stateOf(sim2, d)).status).toBe('COMPLETED');
  });

  it('answers the alternative shapes when asked', async () => {
    const sim = await start({
      responses: { statusShape: 'object', resultShape: 'array', progressStyle: 'number' },
    });
    const id = await submitTask(sim);
    expect((await status(sim, id)).body.data).toEqual({ status: 'COMPLETED', progress: 100 });
    const r = await result(sim, id);
    expect(r.body.data).toEqual([{ result: { urls: [expect.stringContaining(`/videos/${id}/0.mp4`)] } }]);
  });

  it('does not know unknown tasks, nor tasks of another key', async () => {
    const sim = await start();
    const id = await submitTask(sim);
    for (const r of [
      await status(sim, 'no-such-task'),
      await result(sim, 'no-such-task'),
      await status(sim, id, { authorization: 'Bearer sk-someone-else' }),
    ]) {
      expect(r.status).toBe(200);
      expect(r.body.code).toBe(40004);
      expect(r.body.message).toMatch(/task not found/);
    }
  });
});

describe('running slots per key', () => {
  it('queues over the cap as PENDING and starts the next when a slot frees', async () => {
    const t = fakeClock();
    const sim = await start({
      clock: t.clock,
      timings: { pendingMs: 0, runningMs: 1000 },
      limits: { maxRunningPerKey: 2 },
    });
    const ids = [await submitTask(sim), await submitTask(sim), await submitTask(sim), await submitTask(sim)];
    const states = async () => Promise.all(ids.map(async (id) => (await stateOf(sim, id)).status));
    expect(await states()).toEqual(['RUNNING', 'RUNNING', 'PENDING', 'PENDING']);
    t.advance(1000);
    expect(await states()).toEqual(['COMPLETED', 'COMPLETED', 'RUNNING', 'RUNNING']);
    // Asked only much later, the queue still ran in order, one slot at a time.
    t.advance(5000);
    expect(await states()).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    const { tasks } = sim.ledger();
    expect(tasks.maxConcurrentRunning).toBe(2);
    expect(tasks.maxInFlight).toBe(4);
  });

  it('keeps keys apart', async () => {
    const t = fakeClock();
    const sim = await start({
      clock: t.clock,
      timings: { runningMs: 1000 },
      limits: { maxRunningPerKey: 1 },
    });
    const other = { authorization: 'Bearer sk-other' };
    await submitTask(sim);
    const r = await submit(sim, body(), other);
    expect((await status(sim, r.body.data.taskId, other)).body.data[0].status).toBe('RUNNING');
    const { tasks } = sim.ledger();
    expect(tasks.maxConcurrentRunning).toBe(2);
    expect(Object.values(tasks.byKey).map((k) => k.maxConcurrentRunning)).toEqual([1, 1]);
  });

  it('rejects over the cap with 429 and Retry-After when overCapacity is reject', async () => {
    const t = fakeClock();
    const sim = await start({
      clock: t.clock,
      timings: { runningMs: 2500 },
      limits: { maxRunningPerKey: 1, overCapacity: 'reject' },
    });
    await submitTask(sim);
    const r = await submit(sim, body());
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3');
    expect(r.body.message).toMatch(/too many running tasks: 1 running, limit 1/);
    t.advance(2500);
    expect((await submit(sim, body())).body.code).toBe(0);
    const ledger = sim.ledger();
    expect(ledger.submissions.rejected).toEqual({ capacity: 1 });
    expect(ledger.rateLimited.submit).toBe(1);
  });

  it('lets update() raise the cap for waiting tasks', async () => {
    const t = fakeClock();
    const sim = await start({
      clock: t.clock,
      timings: { runningMs: 1000 },
      limits: { maxRunningPerKey: 1 },
    });
    await submitTask(sim);
    const second = await submitTask(sim);
    expect((await stateOf(sim, second)).status).toBe('PENDING');
    sim.update({ limits: { maxRunningPerKey: null } });
    expect((await stateOf(sim, second)).status).toBe('RUNNING');
  });
});
