import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient, type StatusResult } from '@flf2v/core';
import { type Simulator, type SimulatorOptions, startSimulator } from '@flf2v/simulator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAST_RETRY, failure, KEY, TINY_JPEG, TINY_PNG } from './_server.js';

/** The whole flow against the provider stand-in, and the faults it injects. */

let sim: Simulator | undefined;
let client: Client | undefined;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flf2v-sim-'));
});
afterEach(async () => {
  await client?.close();
  await sim?.close();
  client = undefined;
  sim = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(
  options: SimulatorOptions = {},
  clientOptions: Partial<Parameters<typeof createClient>[0]> = {},
) {
  sim = await startSimulator({
    seed: 7,
    ...options,
    timings: { pendingMs: 0, runningMs: 0, jitterRatio: 0, ...options.timings },
  });
  client = createClient({ apiKey: KEY, baseUrl: sim.url, retry: FAST_RETRY, ...clientOptions });
  return { sim, client };
}

async function until(client: Client, taskId: string): Promise<StatusResult> {
  for (let i = 0; i < 200; i++) {
    const s = await client.status(taskId);
    if (s.status !== 'PENDING' && s.status !== 'RUNNING') return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('task never finished');
}

async function submitTask(client: Client, prompt = '小狗起身轻嗅', n = 1) {
  const first = await client.upload(TINY_PNG);
  const last = await client.upload({ file: TINY_JPEG, filename: 'last.jpg' });
  return client.submit({
    selected_model: 'Viduq2-pro-FLF2V-fast',
    task_type: 'flf2video',
    input: {
      image: first.url,
      last_image: last.url,
      prompt,
      resolution: '720p',
      duration: 5,
      number_of_videos: n,
    },
  });
}

describe('against @flf2v/simulator', () => {
  it('upload → submit → poll → result → download', async () => {
    const { sim, client } = await start();
    const { taskId, ts } = await submitTask(client, '小狗起身轻嗅', 2);
    expect(ts).toBeInstanceOf(Date);
    expect((await until(client, taskId)).status).toBe('COMPLETED');
    const { urls } = await client.result(taskId);
    expect(urls).toHaveLength(2);
    for (const [i, url] of urls.entries()) {
      const dest = join(dir, `v-${i}.mp4`);
      const got = await client.download(url, dest);
      const bytes = await readFile(dest);
      expect(got).toEqual({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      expect(sim.ledger().videos.find((v) => v.taskId === taskId && v.index === i)?.sha256).toBe(got.sha256);
    }
    expect(sim.ledger().submissions.accepted).toHaveLength(1);
  });

  it('reads the other answer shapes the simulator can produce', async () => {
    const { client } = await start({
      responses: { statusShape: 'object', resultShape: 'array', progressStyle: 'number' },
    });
    const { taskId } = await submitTask(client);
    expect((await until(client, taskId)).status).toBe('COMPLETED');
    expect((await client.result(taskId)).urls).toHaveLength(1);
  });

  it('regression: a submit reset after processing is reported maybe-created and not re-sent', async () => {
    const { sim, client } = await start({ faults: [{ kind: 'reset-after', endpoints: 'submit', count: 1 }] });
    const err = await failure(submitTask(client));
    expect(err).toMatchObject({ code: 'E_NETWORK', maybeCreated: true, retryable: false });
    const ledger = sim.ledger();
    expect(ledger.submissions.accepted).toHaveLength(1);
    expect(ledger.requests.counts.submit).toBe(1);
  });

  it('429 with an HTTP-date Retry-After, then success: one task', async () => {
    const { sim, client } = await start({
      faults: [
        { kind: 'rate-limit', endpoints: 'submit', count: 1, retryAfter: 'http-date', retryAfterMs: 1000 },
      ],
    });
    const { taskId } = await submitTask(client);
    expect(taskId).toBeTruthy();
    expect(sim.ledger().requests.counts.submit).toBe(2);
    expect(sim.ledger().submissions.accepted).toHaveLength(1);
  });

  it('a truncated download is retried and verified', async () => {
    const { sim, client } = await start({ faults: [{ kind: 'truncated', endpoints: 'download', count: 1 }] });
    const { taskId } = await submitTask(client);
    await until(client, taskId);
    const [url] = (await client.result(taskId)).urls;
    const got = await client.download(url!, join(dir, 'a.mp4'));
    const video = sim.ledger().videos.find((v) => v.taskId === taskId)!;
    expect(got.sha256).toBe(video.sha256);
    // Resumed with Range when some bytes reached the .part before the cut; from zero when none did.
    expect(sim.ledger().requests.counts.download).toBe(2);
  });

  it('an expired URL is E_URL_EXPIRED; a fresh result URL completes the download', async () => {
    const { sim, client } = await start({ timings: { urlTtlMs: 1 } });
    const { taskId } = await submitTask(client);
    await until(client, taskId);
    const [stale] = (await client.result(taskId)).urls;
    await new Promise((r) => setTimeout(r, 20));
    const err = await failure(client.download(stale!, join(dir, 'a.mp4')));
    expect(err).toMatchObject({ code: 'E_URL_EXPIRED', retryable: true, attempts: 1 });
    expect(err.path).not.toContain('sig=');
    sim.update({ timings: { urlTtlMs: 60_000 } });
    const [fresh] = (await client.result(taskId)).urls;
    expect((await client.download(fresh!, join(dir, 'a.mp4'))).bytes).toBeGreaterThan(0);
  });

  it('a wrong key is E_AUTH within one request', async () => {
    const { sim, client } = await start({ key: 'sk-the-right-one' });
    const err = await failure(client.status('anything'));
    expect(err).toMatchObject({ code: 'E_AUTH', retryable: false, attempts: 1 });
    expect(sim.ledger().requests.counts.status).toBe(1);
  });

  it('moderation is E_MODERATION, never retried', async () => {
    const { sim, client } = await start();
    const err = await failure(submitTask(client, 'a scene [sim:moderation]'));
    expect(err).toMatchObject({ code: 'E_MODERATION', retryable: false, maybeCreated: false });
    expect(sim.ledger().requests.counts.submit).toBe(1);
  });

  it('an unknown task id is a provider error, not a crash', async () => {
    const { client } = await start();
    expect(await failure(client.status('no-such-task'))).toMatchObject({
      code: 'E_PROVIDER',
      providerCode: 40004,
    });
  });
});
