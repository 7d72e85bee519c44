import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../packages/batch/test/_redis.js';
import {
  API_KEY,
  checkAgainstLedger,
  cliEnv,
  filesContaining,
  readReport,
  runCli,
  simulator,
  slowFirstSubmit,
  spawnCli,
  tempDir,
  waitFor,
  writeCsvJob,
} from './_helpers.js';

/**
 * Issue 16: the Redis backend through the real CLI — `enqueue`, `worker` processes, `run --backend`, `status` and
 * `report` — against a real redis-server and the simulator. The reliability suite kills workers and Redis.
 */

async function keysOf(url: string): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  try {
    return await redis.keys('*');
  } finally {
    redis.disconnect();
  }
}

describe('the Redis backend', () => {
  it('enqueue, two workers, status and report: every task once, reports written by the worker that finished', async () => {
    const redis = await startRedis();
    const sim = await simulator({ timings: { pendingMs: 50, runningMs: 300 } });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 12);
    const out = join(dir, 'out');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache') });

    const enq = await runCli(
      ['enqueue', manifest, '--backend', redis.url, '--out', out, '--max-in-flight', '3'],
      { env },
    );
    expect(enq.code, enq.stderr).toBe(0);
    const runId = enq.stdout.trim();
    const file = JSON.parse(await readFile(join(out, 'backend.json'), 'utf8'));
    expect(file).toMatchObject({ backend: `${redis.url}/0`, runId });
    // Enqueueing the same manifest again adds nothing.
    const again = await runCli(['enqueue', manifest, '--backend', redis.url, '--out', out], { env });
    expect(again.stdout.trim()).toBe(runId);
    expect(again.stderr).toContain('12 tasks (0 new)');

    const workers = [0, 1].map(() =>
      spawnCli(['worker', '--backend', redis.url, '--quiet', '--concurrency', '8'], { env }),
    );
    await waitFor(() => existsSync(join(out, 'report.json')), 60_000);
    await waitFor(() => sim.ledger().videos.length >= 12, 60_000);
    for (const w of workers) w.kill('SIGINT');
    const ends = await Promise.all(workers.map((w) => w.result));
    for (const end of ends) expect(end.code, end.stderr).toBe(130);

    const status = await runCli(['status', out, '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).totals).toMatchObject({
      tasks: 12,
      succeeded: 12,
      failed: 0,
      pending: 0,
      unknown: 0,
    });
    const report = await readReport(out);
    expect(report.tasks.map((t) => t.submissions)).toEqual(Array(12).fill(1));
    await checkAgainstLedger(sim, out);
    expect(sim.ledger().tasks.maxInFlight).toBeLessThanOrEqual(3);
    // The key is in no Redis key and no file.
    expect((await keysOf(redis.url)).join('\n')).not.toContain(API_KEY);
    expect(await filesContaining(out, API_KEY)).toEqual([]);
  });

  it('run --backend: enqueue, work here, wait, report; the exit codes of a file-backend run', async () => {
    const redis = await startRedis();
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 6);
    const out = join(dir, 'out');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache') });
    const run = await runCli(['run', manifest, '--backend', redis.url, '--out', out, '--quiet'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect((await readReport(out)).totals).toMatchObject({ tasks: 6, succeeded: 6 });
    const report = await runCli(['report', out], { env });
    expect(report.code, report.stderr).toBe(0);
  });

  it("status while a worker's submit is on the wire: pending (submitting), not unknown; the worker says what it did", async () => {
    const redis = await startRedis();
    const { sim, untilOnTheWire } = await slowFirstSubmit(4000);
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 1);
    const out = join(dir, 'out');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache') });
    expect((await runCli(['enqueue', manifest, '--backend', redis.url, '--out', out], { env })).code).toBe(0);
    const worker = spawnCli(['worker', '--backend', redis.url], { env });
    await untilOnTheWire();
    const during = await runCli(['status', out], { env });
    expect(during.stdout).toContain('pending:   1 (1 submitting)');
    expect(during.stdout).toContain('unknown:   0');
    expect(during.stdout).toMatch(/backend: {3}redis:\/\/.*, run \w+, for the workers of key [0-9a-f]{16}/);
    await waitFor(() => existsSync(join(out, 'report.json')), 30_000);
    worker.kill('SIGINT');
    const end = await worker.result;
    expect(end.code, end.stderr).toBe(130);
    expect(end.stderr).toMatch(/run \w+ finished: 1 succeeded, 0 failed, 0 unknown; reports in /);
    expect(end.stderr).toContain('stopped: 1 tasks settled here (1 succeeded, 0 failed, 0 unknown)');
  });

  it('a worker of another key says whose tasks are waiting; a worker without a key says how to rehearse', async () => {
    const redis = await startRedis();
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 2);
    const out = join(dir, 'out');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache') });
    const enq = await runCli(['enqueue', manifest, '--backend', redis.url, '--out', out], { env });
    const fp = /workers of key ([0-9a-f]{16})/.exec(enq.stderr)?.[1];
    expect(fp, enq.stderr).toBeDefined();
    const other = spawnCli(['worker', '--backend', redis.url], {
      env: { ...env, BAICAI_API_KEY: 'sk-another-key-0123456789' },
    });
    let said = '';
    other.stderr!.on('data', (d: string) => (said += d));
    await waitFor(() => said.includes('note:'));
    expect(said).toContain(`tasks waiting here belong to other API keys (2 of key ${fp})`);
    other.kill('SIGINT');
    await other.result;
    const noKey = await runCli(['worker', '--backend', redis.url], { env: { ...env, BAICAI_API_KEY: '' } });
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toContain('flf2v simulator --port 8787');
    expect(noKey.stderr).not.toContain('pass --simulator');
  });

  it("Redis not there: enqueue, worker and status say so at once, with the connection's reason", async () => {
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 1);
    const gone = 'redis://127.0.0.1:9'; // the discard port: nothing listens
    const env = cliEnv(undefined, { BAICAI_API_KEY: API_KEY, FLF2V_CACHE_DIR: join(dir, 'cache') });
    for (const args of [
      ['enqueue', manifest, '--backend', gone, '--out', join(dir, 'out')],
      ['worker', '--backend', gone],
    ]) {
      const res = await runCli(args, { env });
      expect(res.code, args[0]).toBe(3);
      expect(res.stderr).toContain('cannot reach Redis at redis://127.0.0.1:9/0 (connect ECONNREFUSED');
      expect(res.stderr).not.toMatch(/maxRetriesPerRequest|\.\./);
    }
    const runDir = join(dir, 'elsewhere');
    await mkdir(runDir);
    const file = { backend: `${gone}/0`, runId: 'r1', fingerprint: '0123456789abcdef' };
    await writeFile(join(runDir, 'backend.json'), JSON.stringify(file));
    const status = await runCli(['status', runDir], { env });
    expect(status.code).toBe(3);
    expect(status.stderr).toContain('cannot reach Redis at redis://127.0.0.1:9/0 (connect ECONNREFUSED');
  });

  it('an invalid manifest enqueues nothing (exit 2); a Redis that would lose intents is refused (exit 3), naming the setting', async () => {
    const redis = await startRedis({ config: { appendfsync: 'everysec' } });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 2, { row: () => ({ duration: 7 }) });
    const env = cliEnv(undefined, { BAICAI_API_KEY: API_KEY, FLF2V_CACHE_DIR: join(dir, 'cache') });
    const invalid = await runCli(['enqueue', manifest, '--backend', redis.url, '--out', join(dir, 'out')], {
      env,
    });
    expect(invalid.code).toBe(2);
    expect(await keysOf(redis.url)).toEqual([]);
    const good = await writeCsvJob(dir, 2);
    const refused = await runCli(['enqueue', good, '--backend', redis.url, '--out', join(dir, 'out')], {
      env,
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/appendfsync is "everysec", must be always/);
    const worker = await runCli(['worker', '--backend', redis.url], { env });
    expect(worker.code).toBe(3);
    expect(worker.stderr).toMatch(/E_BACKEND/);
  });
});
