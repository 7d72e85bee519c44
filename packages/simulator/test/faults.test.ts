import { describe, expect, it } from 'vitest';
import type { Endpoint, FaultRule, Simulator } from '../src/index.js';
import { AUTH, body, call, png, result, start, status, submit, submitTask, upload } from './_helpers.js';

/** One request to `endpoint`, as a client would make it (a task is prepared first for queries and downloads). */
async function hit(sim: Simulator, endpoint: Endpoint, taskId: string, videoUrl: string) {
  switch (endpoint) {
    case 'upload':
      return upload(sim, png(4, 4));
    case 'submit':
      return submit(sim, body());
    case 'status':
      return status(sim, taskId);
    case 'result':
      return result(sim, taskId);
    case 'download':
      return call(videoUrl);
  }
}

async function withFault(rule: FaultRule) {
  const sim = await start();
  const taskId = await submitTask(sim);
  const [videoUrl] = (await result(sim, taskId)).body.data.urls as string[];
  sim.update({ faults: [rule] });
  return { sim, taskId, videoUrl: videoUrl! };
}

const ALL: Endpoint[] = ['upload', 'submit', 'status', 'result', 'download'];

describe('fault injection', () => {
  it.each(ALL)('http-5xx on %s: 503 in JSON, 502 as a gateway page', async (endpoint) => {
    const { sim, taskId, videoUrl } = await withFault({ kind: 'http-5xx', endpoints: [endpoint], count: 1 });
    const r = await hit(sim, endpoint, taskId, videoUrl);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ code: 503 });
    sim.update({ faults: [{ kind: 'http-5xx', endpoints: endpoint, status: 502 }] });
    const g = await hit(sim, endpoint, taskId, videoUrl);
    expect(g.status).toBe(502);
    expect(g.headers.get('content-type')).toBe('text/html');
    expect(g.body).toBeUndefined();
    expect(sim.ledger().faults.byEndpoint[`${endpoint}:http-5xx`]).toBe(2);
  });

  it.each([
    ['seconds', /^2$/],
    ['http-date', /GMT$/],
    ['garbage', /^soon-ish$/],
  ] as const)('rate-limit with Retry-After as %s', async (format, header) => {
    const { sim, taskId, videoUrl } = await withFault({
      kind: 'rate-limit',
      retryAfter: format,
      retryAfterMs: 1200,
    });
    const r = await hit(sim, 'status', taskId, videoUrl);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toMatch(header);
    expect(sim.ledger().rateLimited.status).toBe(1);
  });

  it('rate-limit can omit Retry-After', async () => {
    const { sim, taskId, videoUrl } = await withFault({ kind: 'rate-limit', retryAfter: 'none' });
    const r = await hit(sim, 'result', taskId, videoUrl);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBeNull();
  });

  it('reset-before drops the connection and nothing happens', async () => {
    const { sim } = await withFault({ kind: 'reset-before', endpoints: 'submit' });
    await expect(submit(sim, body())).rejects.toThrow();
    const ledger = sim.ledger();
    expect(ledger.submissions.accepted).toHaveLength(1);
    expect(ledger.faults.byKind['reset-before']).toBe(1);
    expect(ledger.requests.log.at(-1)).toMatchObject({ endpoint: 'submit', status: 0 });
  });

  it('reset-after on submit creates the task, then drops the connection ("maybe created")', async () => {
    const { sim } = await withFault({ kind: 'reset-after', endpoints: ['submit'] });
    await expect(submit(sim, body())).rejects.toThrow();
    const accepted = sim.ledger().submissions.accepted;
    expect(accepted).toHaveLength(2);
    sim.update({ faults: [] });
    // The task exists and completes although its creator never learnt its id.
    expect((await status(sim, accepted[1]!.taskId)).body.data[0].status).toBe('COMPLETED');
  });

  it.each(['upload', 'status', 'result', 'download'] as const)(
    'reset-after on %s drops the connection',
    async (endpoint) => {
      const { sim, taskId, videoUrl } = await withFault({ kind: 'reset-after', endpoints: [endpoint] });
      await expect(hit(sim, endpoint, taskId, videoUrl)).rejects.toThrow();
    },
  );

  it('slow delays the answer and combines with other faults', async () => {
    const { sim, taskId, videoUrl } = await withFault({ kind: 'slow', delayMs: 150 });
    sim.update({
      faults: [
        { kind: 'slow', delayMs: 150 },
        { kind: 'http-5xx', endpoints: 'status', status: 500 },
      ],
    });
    const t0 = performance.now();
    const r = await hit(sim, 'status', taskId, videoUrl);
    // Timers never fire early by more than rounding; no upper bound (a busy machine may be slow).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(r.status).toBe(500);
    expect(sim.ledger().faults.byKind).toEqual({ slow: 1, 'http-5xx': 1 });
  });

  it('truncated cuts JSON after processing', async () => {
    const { sim } = await withFault({ kind: 'truncated', endpoints: 'submit' });
    const r = await submit(sim, body());
    expect(r.status).toBe(200);
    expect(r.body).toBeUndefined();
    expect(r.text.startsWith('{"code":0')).toBe(true);
    expect(sim.ledger().submissions.accepted).toHaveLength(2);
  });

  it('truncated cuts a download short of its Content-Length', async () => {
    const { sim, taskId, videoUrl } = await withFault({ kind: 'truncated', endpoints: 'download' });
    await expect(hit(sim, 'download', taskId, videoUrl)).rejects.toThrow();
    expect(sim.ledger().videos).toEqual([]);
  });

  it.each(ALL)('non-json answers HTTP 200 with HTML on %s', async (endpoint) => {
    const { sim, taskId, videoUrl } = await withFault({ kind: 'non-json', endpoints: endpoint });
    const r = await hit(sim, endpoint, taskId, videoUrl);
    expect(r.status).toBe(200);
    expect(r.body).toBeUndefined();
    expect(r.text).toMatch(/<html>/);
  });

  it('missing-fields answers code 0 without the data the client needs', async () => {
    const { sim, taskId, videoUrl } = await withFault({ kind: 'missing-fields' });
    expect((await hit(sim, 'submit', taskId, videoUrl)).body).toMatchObject({ code: 0, data: {} });
    expect((await hit(sim, 'status', taskId, videoUrl)).body).toMatchObject({ code: 0, data: [{}] });
    expect((await hit(sim, 'result', taskId, videoUrl)).body).toMatchObject({ code: 0, data: {} });
    expect((await hit(sim, 'upload', taskId, videoUrl)).body).toMatchObject({ code: 0, data: {} });
    // Nothing to drop from a video: downloads are left alone.
    expect((await hit(sim, 'download', taskId, videoUrl)).status).toBe(200);
  });

  it('business-error answers HTTP 200 with code != 0, and nothing is processed', async () => {
    const { sim } = await withFault({
      kind: 'business-error',
      endpoints: 'submit',
      code: 10010,
      message: 'quota exhausted',
    });
    const r = await submit(sim, body());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 10010, message: 'quota exhausted' });
    expect(sim.ledger().submissions.accepted).toHaveLength(1);
  });

  it('counts: a rule fires at most `count` times', async () => {
    const { sim, taskId, videoUrl } = await withFault({ kind: 'http-5xx', count: 2 });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await hit(sim, 'status', taskId, videoUrl)).status);
    expect(codes).toEqual([503, 503, 200, 200]);
  });

  it('update() switches an outage on and off (e.g. 503s, then recovery)', async () => {
    const sim = await start();
    sim.update({ faults: [{ kind: 'http-5xx', status: 503, endpoints: ['submit'] }] });
    expect((await submit(sim, body())).status).toBe(503);
    expect((await submit(sim, body())).status).toBe(503);
    sim.update({ faults: [] });
    expect((await submit(sim, body())).status).toBe(200);
  });

  it('only the listed endpoints are affected', async () => {
    const { sim, taskId, videoUrl } = await withFault({ kind: 'http-5xx', endpoints: ['result'] });
    expect((await hit(sim, 'status', taskId, videoUrl)).status).toBe(200);
    expect((await hit(sim, 'result', taskId, videoUrl)).status).toBe(503);
  });
});

describe('determinism', () => {
  async function run(seed: number): Promise<string> {
    const sim = await start({
      seed,
      faults: [
        { kind: 'http-5xx', probability: 0.3 },
        { kind: 'business-error', probability: 0.3 },
      ],
    });
    const out: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await submit(sim, body({ prompt: `task ${i}` }));
      out.push(r.body?.data?.taskId ?? `${r.status}/${r.body?.code}`);
    }
    return out.join(' ');
  }

  it('the same seed gives the same faults and task ids', async () => {
    const a = await run(1234);
    expect(a).toMatch(/503/);
    expect(a).toMatch(/50000/);
    expect(await run(1234)).toBe(a);
    expect(await run(4321)).not.toBe(a);
  });

  it('shows the seed in the ledger, a random one when none is given', async () => {
    expect((await start({ seed: 99 })).ledger().seed).toBe(99);
    const { startSimulator } = await import('../src/index.js');
    const sim = await startSimulator();
    try {
      expect(Number.isInteger(sim.ledger().seed)).toBe(true);
      expect(sim.seed).toBe(sim.ledger().seed);
    } finally {
      await sim.close();
    }
  });
});

describe('headers', () => {
  it('answers unknown paths and wrong methods like a web server', async () => {
    const sim = await start();
    expect((await call(`${sim.url}/nope`, { headers: AUTH })).status).toBe(404);
    const m = await call(`${sim.url}/v1/videos/generations`, { headers: AUTH });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('POST');
  });
});
