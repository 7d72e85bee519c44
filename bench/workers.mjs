// Workers (issue 16): the same work under the same known limits — a submit rate and an in-flight cap on one
// API key — done by one `flf2v run` on the file backend, and by 1, 2 and 4 `flf2v worker` processes sharing the
// key through Redis (`flf2v enqueue`, then the workers until every task is settled). The figure is the
// makespan against the provider's bound max(N / submit rate, N·D / cap) (limits.mjs): more workers cannot beat
// the key's limits, and must not lose to them either (their gate and in-flight slots are shared in Redis).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  bestOf,
  CLI,
  cliEnv,
  load,
  log,
  round,
  runNode,
  spawnNode,
  startSimChild,
  verdictLine,
  writeManifest,
} from './_lib.mjs';
import { startRedisServer } from './_redis.mjs';
import { runScenario } from './_scenario.mjs';
import { analyze, simSpec } from './limits.mjs';

/** Same limits and tasks as the limits benchmark's `known` case. */
const CFG = { submitPerWindow: 5, windowMs: 1000, cap: 10, meanMs: 2000, jitter: 0.1, overCapacity: 'queue' };
const RPM = (CFG.submitPerWindow * 60_000) / CFG.windowMs;
const FLAGS = ['--submit-rpm', String(RPM), '--max-in-flight', String(CFG.cap)];

/** The Redis counters of the bench's one run: `{ open, succeeded }`. */
async function counts(redis, runId) {
  const [prefix] = await redis.keys(`flf2v:*:run:${runId}`);
  if (!prefix) return { open: Number.POSITIVE_INFINITY, succeeded: 0 };
  const [open, succeeded] = await redis.hmget(prefix, 'open', 'phase:succeeded');
  return { open: Number(open ?? 0), succeeded: Number(succeeded ?? 0) };
}

/**
 * `flf2v enqueue`, then `workers` worker processes until the run is settled (then SIGINT): the ledger, the
 * durations and the processes' figures in the shape `analyze` takes (`run.seconds` from the first worker's start
 * to the last one's exit; CPU summed over enqueue and workers; the largest worker's peak RSS).
 */
async function runOnWorkers({ dir, manifest, tasks, workers }) {
  const redisServer = await startRedisServer();
  const sim = await startSimChild(simSpec(CFG));
  const out = join(dir, `out-redis-${workers}-${Date.now()}`);
  const env = cliEnv(sim.url, dir);
  const redis = new Redis(redisServer.url, { lazyConnect: true });
  try {
    await redis.connect();
    const enq = await runNode(
      [CLI, 'enqueue', manifest, '--backend', redisServer.url, '--out', out, '--quiet', ...FLAGS],
      {
        env,
      },
    );
    if (enq.code !== 0) throw new Error(`flf2v enqueue exited ${enq.code}: ${enq.stderr.slice(0, 2000)}`);
    const runId = enq.stdout.trim();
    const started = performance.now();
    const procs = Array.from({ length: workers }, () =>
      spawnNode([CLI, 'worker', '--backend', redisServer.url, '--quiet'], { env, timeoutMs: 15 * 60_000 }),
    );
    const exited = Promise.all(procs.map((p) => p.result));
    let settled;
    for (;;) {
      settled = await counts(redis, runId);
      if (settled.open === 0) break;
      const early = await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
      if (early)
        throw new Error(`workers exited before the run was settled: ${early.map((e) => e.code).join(', ')}`);
    }
    for (const p of procs) p.child.kill('SIGINT');
    const ends = await exited;
    const seconds = (performance.now() - started) / 1000;
    const { ledger, durations } = await sim.report();
    const videos = (await readdir(join(out, 'videos')).catch(() => [])).length;
    return {
      ok: ends.every((e) => e.code === 130) && settled.succeeded === tasks && videos === tasks,
      exitCode: ends.map((e) => e.code).join(','),
      run: {
        seconds,
        cpuMs: enq.cpuMs + ends.reduce((n, e) => n + e.cpuMs, 0),
        peakRssMB: Math.max(...ends.map((e) => e.peakRssMB)),
      },
      ledger,
      durations,
    };
  } finally {
    redis.disconnect();
    await sim.close();
    await redisServer.stop();
    await rm(out, { recursive: true, force: true });
  }
}

export async function workers({ tasks = 150, repeat = 2, counts: workerCounts = [1, 2, 4] } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-bench-workers-'));
  const cases = [
    { name: 'file', label: 'file backend: one flf2v run' },
    ...workerCounts.map((n) => ({
      name: `redis-${n}`,
      workers: n,
      label: `Redis backend: ${n} flf2v worker`,
    })),
  ];
  try {
    const manifest = await writeManifest(dir, tasks);
    const results = [];
    for (const c of cases) {
      const runs = [];
      for (let i = 0; i < repeat; i++) {
        const before = load();
        log(`workers ${c.name} ${i + 1}/${repeat}: ${tasks} tasks… (load ${before.one})`);
        const res = c.workers
          ? await runOnWorkers({ dir, manifest, tasks, workers: c.workers })
          : await runScenario({ dir, manifest, simSpec: simSpec(CFG), flags: FLAGS, tasks, name: c.name });
        const a = { load: before, ...analyze(res, CFG, tasks, true) };
        log(
          `  makespan ${a.makespanS} s, bound ${a.boundS} s (×${a.ratio}), knowing only the limits ${a.evenIdealS} s, ` +
            `429s ${a.rateLimited}, peak in flight ${a.maxInFlightAtProvider}${a.ok ? '' : ' — NOT all tasks done'}`,
        );
        runs.push(a);
      }
      const ratio = bestOf(
        runs.map((r) => r.ratio),
        'lower',
      );
      results.push({ ...c, ratio, best: runs.find((r) => r.ratio === ratio.best), runs });
    }
    return {
      tasks,
      bound: 'max(N / submit rate, N × mean running time / in-flight cap)',
      flags: FLAGS,
      simulator: simSpec(CFG),
      cases: results,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function printWorkers(r) {
  const lines = [`workers — ${r.tasks} tasks, ${r.flags.join(' ')}; bound = ${r.bound}`];
  const file = r.cases.find((c) => c.name === 'file');
  for (const c of r.cases) {
    const b = c.best;
    const vsFile =
      file && c !== file ? `; ×${round(c.ratio.best / file.ratio.best, 3)} of the file backend's` : '';
    lines.push(
      verdictLine(
        c.label,
        `×${c.ratio.best} of the bound (runs ${c.ratio.runs.join(', ')}; makespan ${b.makespanS} s, bound ${b.boundS} s, knowing only the limits ${b.evenIdealS} s = ×${b.ratioToEvenIdeal}${vsFile}); ${b.rateLimited} 429s; peak ${b.maxInFlightAtProvider} in flight; CPU ${round(b.cpuMs / 1000, 1)} s${b.ok ? '' : '; NOT ALL TASKS DONE'}`,
        '',
        '',
        b.ok && b.maxInFlightAtProvider <= CFG.cap ? undefined : false,
      ),
    );
  }
  return lines.join('\n');
}
