import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import {
  jobIdOf,
  keyFingerprint,
  QUEUE_NAME,
  RedisKeys,
} from '../../packages/batch/src/backend/redis/keys.js';
import { readRunLog } from '../../packages/batch/src/backend/redis/run.js';
import type { RunState } from '../../packages/batch/src/state/run-state.js';
import { API_KEY, type CliResult, runCli, spawnCli } from '../e2e/_helpers.js';
import { FALLBACK_MS, type Trigger } from './_kill-plan.js';
import type { Action, KillProxy } from './_proxy.js';
import type { Prng } from './_support.js';

/**
 * The Redis backend's reliability tests: `flf2v worker` processes, each on its own lane of the kill proxy
 * (`PROXY/w1`, …) so that a kill at an exact point of a request hits the worker that made it, killed and started
 * again; and what Redis says about a run, read as the workers write it.
 */

/** The key's Redis names (the tests' API key is `API_KEY`). */
export const KEYS = new RedisKeys(keyFingerprint(API_KEY));

/** A connection of the test's own (the caller disconnects it); its commands wait out a Redis the test killed. */
export async function inspect(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
  redis.on('error', () => {});
  await redis.connect();
  return redis;
}

/** The run as its journal in Redis says (the reducer the workers use). */
export function runState(redis: Redis, runId: string): Promise<RunState> {
  return readRunLog(redis, KEYS, runId);
}

/** The run's tasks not yet settled (succeeded, failed or unknown), from its counter. */
export async function openTasks(redis: Redis, runId: string): Promise<number> {
  return Number((await redis.hget(KEYS.run(runId), 'open')) ?? '0');
}

/** Wait until every task of the run is settled (a generous timeout only guards against hangs). */
export async function waitSettled(redis: Redis, runId: string, timeoutMs = 120_000): Promise<void> {
  const start = Date.now();
  while ((await openTasks(redis, runId)) > 0) {
    if (Date.now() - start > timeoutMs) {
      const state = await runState(redis, runId);
      const open = [...state.tasks.values()]
        .filter((t) => !['succeeded', 'failed', 'unknown'].includes(t.phase) || t.pending.length > 0)
        .map((t) => `${t.id} ${t.phase}${t.pending.length ? ` (intent ${t.pending.join(',')} open)` : ''}`);
      const counts = await redis.hgetall(KEYS.run(runId));
      const phases = Object.entries(counts).filter(([k]) => k.startsWith('phase:') || k === 'open');
      throw new Error(
        `run ${runId} not settled after ${timeoutMs} ms: ${open.join('; ')} (counters ${JSON.stringify(Object.fromEntries(phases))})`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `host:pid` of the worker a task's job was last taken by (BullMQ's `processedBy`), for each of its jobs. */
async function holdersOf(redis: Redis, runId: string, key: string): Promise<string[]> {
  const job = `${KEYS.prefix}:${QUEUE_NAME}:${jobIdOf(runId, key)}`;
  // A task may have a job queued again after a lost lock (`<job>.r<n>`).
  const jobs = [job, ...(await redis.keys(`${job}.r*`)).filter((k) => !k.endsWith(':lock'))];
  const holders: string[] = [];
  for (const k of jobs) {
    const pb = await redis.hget(k, 'pb');
    if (pb) holders.push(pb);
  }
  return holders;
}

/** The name a worker process goes by in Redis. */
const workerName = (pid: number) => `${hostname()}:${pid}`;

/**
 * Submissions a killed worker left between their durable intent and their recorded taskId: open intents of the
 * tasks whose job it held. Read as soon as it is gone — before its job locks expire and another worker takes
 * them over (and records them as unknown).
 */
export async function cutBy(
  redis: Redis,
  runId: string,
  pid: number,
): Promise<{ id: string; key: string; n: number }[]> {
  const cut: { id: string; key: string; n: number }[] = [];
  for (const t of (await runState(redis, runId)).tasks.values()) {
    if (t.pending.length === 0) continue;
    if (!(await holdersOf(redis, runId, t.key)).includes(workerName(pid))) continue;
    for (const n of t.pending) cut.push({ id: t.id, key: t.key, n });
  }
  return cut;
}

/** `flf2v enqueue` into `out`; throws unless it exits 0. */
export async function enqueue(
  manifest: string,
  redisUrl: string,
  out: string,
  env: NodeJS.ProcessEnv,
  flags: string[] = [],
): Promise<CliResult> {
  const res = await runCli(['enqueue', manifest, '--backend', redisUrl, '--out', out, '--quiet', ...flags], {
    env,
  });
  if (res.code !== 0) throw new Error(`enqueue exited ${res.code}: ${res.stderr}`);
  return res;
}

export interface WorkerEnd {
  lane: string;
  pid: number;
  res: CliResult;
  /** Why it was killed (`submit#2:kill-on-arrival`, `time`, `time (fallback)`); undefined when it ended otherwise. */
  reason?: string;
}

interface LaneState {
  decide: (action: { endpoint: string; nth: number }) => Action;
  kill: (reason: string) => void;
}

/**
 * `flf2v worker` processes on lanes of one kill proxy. `start(lane, trigger)` spawns one whose base URL is the
 * lane's and kills it -9 at `trigger` (an exact point of one of its requests, or a time after start; an event that
 * does not come falls back to a random time); `end` is when it is gone.
 */
export class WorkerLanes {
  private readonly lanes = new Map<string, LaneState>();
  private readonly live = new Map<string, { child: ReturnType<typeof spawnCli>; ready: Promise<void> }>();

  constructor(
    private readonly proxy: KillProxy,
    private readonly o: {
      redisUrl: string;
      env: NodeJS.ProcessEnv;
      /** Worker flags beyond --backend. */
      args: string[];
      r: Prng;
    },
  ) {
    proxy.decide = (req) => this.lanes.get(req.lane)?.decide(req) ?? { kind: 'forward' };
    proxy.kill = (reason, lane) => this.lanes.get(lane)?.kill(reason);
  }

  /** Spawn a worker on `lane`, to be killed at `trigger` (none: it runs until `stopAll`). */
  start(lane: string, trigger?: Trigger): { pid: number; end: Promise<WorkerEnd> } {
    this.proxy.reset(lane);
    const child = spawnCli(['worker', '--backend', this.o.redisUrl, ...this.o.args], {
      env: { ...this.o.env, BAICAI_BASE_URL: `${this.proxy.url}/${lane}` },
    });
    // Taking tasks (its stop signals handled) once it says so on stderr.
    const ready = new Promise<void>((resolve) => {
      const seen = (d: string) => {
        if (d.includes('taking tasks')) resolve();
      };
      child.stderr!.on('data', seen);
      child.once('close', () => resolve());
    });
    const entry = { child, ready };
    this.live.set(lane, entry);
    let reason: string | undefined;
    const kill = (why: string) => {
      if (reason !== undefined || child.exitCode !== null || child.signalCode !== null) return;
      reason = why;
      child.kill('SIGKILL');
    };
    this.lanes.set(lane, {
      decide: (req) =>
        trigger?.kind === 'event' && req.endpoint === trigger.endpoint && req.nth === trigger.nth
          ? trigger.action
          : { kind: 'forward' },
      kill,
    });
    const timer = trigger
      ? setTimeout(
          () => kill(trigger.kind === 'time' ? 'time' : 'time (fallback)'),
          trigger.kind === 'time' ? trigger.afterMs : this.o.r.int(...FALLBACK_MS),
        )
      : undefined;
    const end = child.result.then((res) => {
      clearTimeout(timer);
      if (this.live.get(lane) === entry) this.live.delete(lane);
      return { lane, pid: child.pid!, res, ...(res.signal === 'SIGKILL' ? { reason } : {}) };
    });
    return { pid: child.pid!, end };
  }

  /** SIGINT every live worker once it is taking tasks; each must exit 130 (stopped, state kept). */
  async stopAll(): Promise<CliResult[]> {
    const live = [...this.live.values()];
    await Promise.all(live.map((w) => w.ready));
    for (const w of live) w.child.kill('SIGINT');
    const ends = await Promise.all(live.map((w) => w.child.result));
    for (const end of ends) {
      if (end.code !== 130) {
        throw new Error(`a worker exited ${end.code ?? end.signal} on SIGINT: ${end.stderr}`);
      }
    }
    return ends;
  }
}

/**
 * A closing session of a kill test (`finishAndCheckExactlyOnce`'s `run`): `flf2v enqueue` with `args` (the same
 * manifest again; then with --resubmit-unknown), one worker until the run is settled, then `flf2v report` from
 * Redis. Its code is a run's: 0 when every task succeeded, 1 otherwise.
 */
export function closingSession(o: {
  lanes: WorkerLanes;
  redis: Redis;
  runId: string;
  out: string;
  env: NodeJS.ProcessEnv;
}): (args: string[]) => Promise<CliResult> {
  return async (args) => {
    const enq = await runCli(args, { env: o.env });
    if (enq.code !== 0) return enq;
    const worker = o.lanes.start('w9');
    await waitSettled(o.redis, o.runId);
    await o.lanes.stopAll();
    const w = await worker.end;
    const report = await runCli(['report', o.out], { env: o.env });
    const all = [...(await runState(o.redis, o.runId)).tasks.values()];
    const code = report.code || (all.every((t) => t.phase === 'succeeded') ? 0 : 1);
    return { ...report, code, stderr: enq.stderr + w.res.stderr + report.stderr };
  };
}
