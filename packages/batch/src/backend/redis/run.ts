import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobLimits, Plan } from '../../manifest/types.js';
import { copyFrames } from '../../run/frame-copies.js';
import type { JournalRecord } from '../../state/records.js';
import { RunState } from '../../state/run-state.js';
import { TOOL_VERSION } from '../../version.js';
import { checkRedis, connectRedis } from './connection.js';
import { jobIdOf, keyFingerprint, QUEUE_NAME, RedisKeys } from './keys.js';
import { type BackendFile, claimRunDir } from './run-dir.js';
import { withScripts } from './scripts.js';
import { backendError, RedisStore } from './store.js';
import type { RedisAddress } from './url.js';

/** What a job carries: which run's which task (everything else is in Redis). */
export interface TaskJob {
  runId: string;
  key: string;
}

/** Phases a worker has something to do for. */
const WORK: ReadonlySet<string> = new Set(['planned', 'submitted', 'completed']);

export interface EnqueueOptions {
  address: RedisAddress;
  apiKey: string;
  plan: Plan;
  /** The manifest as given on the command line (shown in reports). */
  manifestArg: string;
  outDir: string;
  /** The key's limits, given on the command line or by the job (the command line wins): they apply to every run of the key. */
  limits: JobLimits;
  /** @default 30 minutes */
  taskTimeoutMs?: number;
  resubmitUnknown?: boolean;
  retryFailed?: boolean;
}

export interface EnqueueResult {
  file: BackendFile;
  /** Tasks of the manifest that were new to the run. */
  added: number;
  /** Jobs queued for workers (tasks with something to do). */
  queued: number;
  tasks: number;
}

/**
 * Record a validated plan as a run in Redis and queue its tasks for workers, idempotently: task identity is the
 * task key, so enqueueing the same manifest twice into the same `outDir` adds nothing twice (and a task already
 * queued or being worked on is not queued again). Frames are copied into `outDir/frames/` (a directory every
 * worker sees), named by content. Nothing is sent to the provider.
 * @throws BatchError `E_BACKEND` (Redis unreachable or not durable), `E_USAGE` (the directory is another key's or
 *   backend's); Flf2vError `E_LOCAL_IO`
 */
export async function enqueueRun(o: EnqueueOptions): Promise<EnqueueResult> {
  const redis = withScripts(connectRedis(o.address, { name: 'flf2v:enqueue' }));
  try {
    await checkRedis(o.address);
    const keys = new RedisKeys(keyFingerprint(o.apiKey));
    const file = await claimRunDir(o.outDir, o.address.display, keys.fp);
    const { runId } = file;
    const state = await readRunLog(redis, keys, runId);
    const store = new RedisStore(redis, keys, runId, state);
    const now = new Date().toISOString();
    const created = await redis.hsetnx(keys.run(runId), 'createdAt', now);
    if (created === 1) {
      await redis
        .multi()
        .hset(keys.run(runId), { outDir: o.outDir, job: o.plan.job.name, tool: `flf2v/${TOOL_VERSION}` })
        .sadd(keys.runs, runId)
        .exec();
      store.append({
        t: 'header',
        v: 1,
        generation: 0,
        tool: `flf2v/${TOOL_VERSION}`,
        job: o.plan.job.name,
        manifestHash: o.plan.manifest.hash,
        createdAt: now,
      });
    }
    await redis.hset(keys.run(runId), 'taskTimeoutMs', String(o.taskTimeoutMs ?? 30 * 60_000));
    const limits = Object.entries(o.limits).filter(([, v]) => v !== undefined);
    if (limits.length > 0) await redis.hset(`${keys.prefix}:limits`, Object.fromEntries(limits));
    store.append({
      t: 'session',
      n: state.sessions + 1,
      at: now,
      tool: TOOL_VERSION,
      manifestHash: o.plan.manifest.hash,
      manifest: o.manifestArg,
      pid: process.pid,
      host: 'producer',
      limits: { ...o.limits },
      provider: { kind: 'provider', baseUrl: o.address.display },
    });
    const frames = await copyFrames(o.plan, o.outDir, 'all');
    let added = 0;
    for (const task of o.plan.tasks) {
      if (state.tasks.has(task.key)) continue;
      added++;
      store.append({
        t: 'planned',
        key: task.key,
        id: task.id,
        at: now,
        params: { ...task.params },
        image: frames(task.image),
        last_image: frames(task.last_image),
      });
    }
    for (const task of o.plan.tasks) {
      const t = state.tasks.get(task.key)!;
      if ((t.phase === 'unknown' && o.resubmitUnknown) || (t.phase === 'failed' && o.retryFailed)) {
        const reason = t.phase === 'unknown' ? 'resubmit-unknown' : 'retry-failed';
        store.append({ t: 'reopened', key: t.key, at: now, reason });
      }
    }
    await store.flush();
    const jobs = o.plan.tasks.filter((t) => WORK.has(state.tasks.get(t.key)!.phase));
    const queue = new Queue<TaskJob>(QUEUE_NAME, { connection: redis, prefix: keys.prefix });
    try {
      await queue.addBulk(
        jobs.map((t) => ({
          name: 'task',
          data: { runId, key: t.key },
          opts: { jobId: jobIdOf(runId, t.key), removeOnComplete: true, removeOnFail: true },
        })),
      );
    } catch (cause) {
      throw backendError('cannot queue the tasks', cause);
    } finally {
      await queue.close();
    }
    return { file, added, queued: jobs.length, tasks: o.plan.tasks.length };
  } finally {
    redis.disconnect();
  }
}

/** A run's state as its journal in Redis says (`state/run-state.ts`, the same reducer as the file journal). */
export async function readRunLog(redis: Redis, keys: RedisKeys, runId: string): Promise<RunState> {
  const state = new RunState();
  const log = keys.runLog(runId);
  const chunk = 10_000;
  try {
    for (let start = 0; ; start += chunk) {
      const lines = await redis.lrange(log, start, start + chunk - 1);
      for (const line of lines) state.apply(JSON.parse(line) as JournalRecord);
      if (lines.length < chunk) return state;
    }
  } catch (cause) {
    throw backendError(`cannot read run ${runId}`, cause);
  }
}

/** Tasks of a run by phase, and how many are not yet settled (from the run's counters: cheap to ask often). */
export async function runCounts(
  redis: Redis,
  keys: RedisKeys,
  runId: string,
): Promise<{ open: number; phases: Record<string, number> }> {
  const h = await redis.hgetall(keys.run(runId));
  const phases: Record<string, number> = {};
  for (const [field, value] of Object.entries(h)) {
    if (field.startsWith('phase:')) phases[field.slice(6)] = Number(value);
  }
  return { open: Number(h.open ?? 0), phases };
}

/**
 * Tasks not yet settled per API key fingerprint, over every run in this Redis (keys `flf2v:{fp}:runs`): what a
 * worker looks at to tell a user whose producer used another key. Reads only; scans the keyspace once.
 */
export async function openTasksByKey(redis: Redis): Promise<Map<string, number>> {
  const byKey = new Map<string, number>();
  for await (const batch of redis.scanStream({ match: 'flf2v:*:runs', count: 1000 }) as AsyncIterable<
    string[]
  >) {
    for (const setKey of batch) {
      const keys = new RedisKeys(setKey.slice('flf2v:'.length, -':runs'.length));
      let open = 0;
      for (const runId of await redis.smembers(setKey)) {
        open += Number((await redis.hget(keys.run(runId), 'open')) ?? '0');
      }
      byKey.set(keys.fp, (byKey.get(keys.fp) ?? 0) + open);
    }
  }
  return byKey;
}
