import { hostname } from 'node:os';
import type { CallGate } from '@flf2v/core';
import { type Client, createClient } from '@flf2v/core';
import { Flf2vError } from '@flf2v/core/rules';
import { type Job, Queue, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { internalError } from '../../errors.js';
import type { JobLimits, PlannedTask } from '../../manifest/types.js';
import { RunClock } from '../../run/clock.js';
import type { Logger } from '../../run/pipeline/context.js';
import { Engine, type RunScope, STOP_GRACE_MS } from '../../run/pipeline/engine.js';
import { FrameUrls } from '../../run/pipeline/frames.js';
import { verdictOf } from '../../run/policy.js';
import { DEFAULT_UPLOAD_MAX_AGE_MS, openUploadCache, type UploadCache } from '../../run/upload-cache.js';
import type { TaskState } from '../../state/run-state.js';
import { checkRedis, connectRedis } from './connection.js';
import { RedisInFlight } from './in-flight.js';
import { jobIdOf, keyFingerprint, QUEUE_NAME, RedisKeys } from './keys.js';
import { RedisRateLimiter } from './limiter.js';
import { planOf } from './plan-of.js';
import { type RunTotals, writeRunReports } from './reports.js';
import type { TaskJob } from './run.js';
import { type RedisScripts, withScripts } from './scripts.js';
import { backendError, RedisStore } from './store.js';
import type { RedisAddress } from './url.js';

/** What a worker is made of (see `RedisWorker.start`). */
interface WorkerParts {
  /** The journal's connection (with the scripts). */
  redis: Redis & RedisScripts;
  keys: RedisKeys;
  client: Client;
  gate: CallGate;
  inFlight: RedisInFlight;
  frames: FrameUrls;
  uploadCache: UploadCache | undefined;
  /** BullMQ's blocking connection. */
  bull: Redis;
  /** Every connection, closed on stop: the journal's, the release channel's, BullMQ's, the limiter's. */
  connections: Redis[];
}

/** How often a worker re-reads its key's limits (a later enqueue may change them). */
const LIMITS_REFRESH_MS = 5_000;

/**
 * A Redis outage shorter than this is waited out: the worker's commands wait for the reconnect (ms). Longer, the
 * worker stops with E_BACKEND (exit 3), every task kept: others, or this one restarted, take them over.
 */
export const RIDE_THROUGH_MS = 30_000;

/** A stop waits this long past the calls' grace for BullMQ to hand the jobs back (it never does while Redis is gone). */
const CLOSE_SLACK_MS = 5_000;

/** Jobs a worker processes at once (most of them wait on the provider). @default 64 */
export const DEFAULT_WORKER_CONCURRENCY = 64;

export interface WorkerOptions {
  address: RedisAddress;
  apiKey: string;
  baseUrl: string;
  logger: Logger;
  /** @default DEFAULT_WORKER_CONCURRENCY */
  concurrency?: number;
  /** The key's limits; undefined fields are read from Redis (set by `enqueue`). */
  limits?: JobLimits;
  /**
   * BullMQ's job lock (ms): a worker silent this long (killed, frozen) loses its jobs — its tasks — to others
   * (`--stalled-after`). @default 30_000
   */
  lockDurationMs?: number;
  /** The upload cache's directory. @default the user cache dir */
  cacheDir?: string;
  /** Called once every task of a run is settled (its reports are written by then), with the run's totals. */
  onRunSettled?: (runId: string, run: { outDir: string; totals: RunTotals }) => void;
  /** Called when this worker settled a task (succeeded, failed or unknown). */
  onTaskSettled?: (runId: string, task: TaskState) => void;
  /** The client's gate. @default a RedisRateLimiter: the key's limits, kept by all its workers together */
  gate?: CallGate;
}

/**
 * `flf2v worker`: takes the tasks of every run of one API key from the key's BullMQ queue and drives each through
 * the same stages as a file-backend run (`Engine`), with the run's state in Redis (`RedisStore`, its job's lock
 * fencing intents and decisions) and the key's in-flight cap shared by all workers (`RedisInFlight`). A job is a
 * task; it stays active while its task runs at the provider. Killed, a worker's jobs stall and are taken over:
 * a task with a taskId is polled, one whose submit outcome was cut is `unknown` — never sent again by a takeover.
 * Stopped (SIGINT), it takes no new work, lets calls settle, and puts its jobs back for other workers.
 */
export class RedisWorker {
  private readonly engine: Engine;
  private readonly members = new WeakMap<TaskState, string>();
  /** The jobs being driven, by id: aborted when BullMQ could not renew a job's lock (another worker may take it). */
  private readonly lost = new Map<string, AbortController>();
  private readonly outDirs = new Map<string, { outDir: string; taskTimeoutMs: number }>();
  private worker?: Worker<TaskJob>;
  private readonly queue: Queue<TaskJob>;
  /** Timers to clear on stop. */
  readonly timers: NodeJS.Timeout[] = [];
  /** Tasks put back in the queue unfinished (stopped, or taken over by another worker), since start. */
  handedBack = 0;

  private readonly redis: Redis & RedisScripts;
  private readonly keys: RedisKeys;

  private constructor(
    private readonly o: WorkerOptions,
    private readonly p: WorkerParts,
  ) {
    this.redis = p.redis;
    this.keys = p.keys;
    this.engine = new Engine({
      client: p.client,
      logger: o.logger,
      clock: new RunClock({ spans: new Map(), session: 0 }),
    });
    this.queue = new Queue<TaskJob>(QUEUE_NAME, { connection: p.redis, prefix: p.keys.prefix });
  }

  /**
   * Connect, check Redis keeps what it is told, and start taking jobs.
   * @throws BatchError `E_BACKEND`
   */
  static async start(o: WorkerOptions): Promise<RedisWorker> {
    await checkRedis(o.address);
    const redis = withScripts(
      connectRedis(o.address, { name: 'flf2v:worker', rideThroughMs: RIDE_THROUGH_MS }),
    );
    const subscriber = connectRedis(o.address, { blocking: true, name: 'flf2v:worker:events' });
    const bull = connectRedis(o.address, { blocking: true, name: 'flf2v:worker:jobs' });
    // The limiter's own connection: on the journal's, its answers would wait behind the appends' fsyncs.
    const pacing = connectRedis(o.address, { name: 'flf2v:worker:limits', rideThroughMs: RIDE_THROUGH_MS });
    const connections = [redis, subscriber, bull, pacing];
    const keys = new RedisKeys(keyFingerprint(o.apiKey));
    let stored = (await redis.hgetall(`${keys.prefix}:limits`)) as Record<string, string>;
    const refresh = setInterval(() => {
      redis
        .hgetall(`${keys.prefix}:limits`)
        .then((h) => {
          stored = h;
        })
        .catch(() => {});
    }, LIMITS_REFRESH_MS);
    refresh.unref();
    const limit = (name: keyof JobLimits) =>
      o.limits?.[name] ?? (stored[name] ? Number(stored[name]) : undefined);
    // The key's limits, kept by every worker together: paced, paused and learned in Redis.
    const gate =
      o.gate ??
      new RedisRateLimiter({
        redis: pacing,
        fp: keys.fp,
        rpm: { submit: limit('submitRpm'), query: limit('queryRpm') },
        logger: o.logger,
        // Calls wait out an outage as the journal's commands do (a failed call stops the worker).
        timeoutMs: RIDE_THROUGH_MS,
      });
    const client = createClient({ apiKey: o.apiKey, baseUrl: o.baseUrl, gate, logger: o.logger });
    let self: RedisWorker | undefined;
    const inFlight = new RedisInFlight(
      redis,
      subscriber,
      keys,
      () => limit('maxInFlight'),
      (run) => self!.members.get(run.task) ?? run.task.key,
      () => self?.engine.stopping ?? false,
      o.logger,
    );
    const frames = new FrameUrls(async (sha) => {
      const json = await redis.hget(keys.uploads, sha);
      return json ? (JSON.parse(json) as { url: string; at: string }) : undefined;
    }, DEFAULT_UPLOAD_MAX_AGE_MS);
    const uploadCache = await openUploadCache({ dir: o.cacheDir, baseUrl: o.baseUrl });
    self = new RedisWorker(o, {
      redis,
      bull,
      keys,
      client,
      gate,
      inFlight,
      frames,
      uploadCache,
      connections,
    });
    self.timers.push(refresh);
    self.listen();
    try {
      // Taking jobs before it returns: a stop must not cut BullMQ's connections while they start (they fail
      // with an unhandled error then).
      await Promise.all([self.worker!.waitUntilReady(), self.queue.waitUntilReady()]);
    } catch (cause) {
      await self.stop().catch(() => {});
      throw backendError(`cannot take tasks from ${o.address.display}`, cause);
    }
    return self;
  }

  /** What the tasks this worker drives are doing now. */
  get live() {
    return this.engine.live;
  }

  /** The API key's fingerprint (`keyFingerprint`): the runs this worker serves are the runs enqueued with it. */
  get fingerprint(): string {
    return this.keys.fp;
  }

  /** The error that stopped the worker (a wrong key, Redis gone), if one did. */
  get fatal() {
    return this.engine.fatal;
  }

  private listen(): void {
    const lockDuration = this.o.lockDurationMs ?? 30_000;
    this.worker = new Worker<TaskJob>(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection: this.p.bull,
      prefix: this.keys.prefix,
      concurrency: this.o.concurrency ?? DEFAULT_WORKER_CONCURRENCY,
      // Which worker holds a task: each job records it (`processedBy`), CLIENT LIST shows it.
      name: `${hostname()}:${process.pid}`,
      lockDuration,
      stalledInterval: Math.max(1_000, Math.round(lockDuration / 2)),
      // A task is never given up because workers died under it: each takeover is safe (see the class doc).
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    this.worker.on('error', (error) => this.o.logger.warn({ err: String(error) }, 'worker: Redis error'));
    this.worker.on('lockRenewalFailed', (jobIds) => {
      for (const id of jobIds) this.lost.get(id)?.abort();
    });
    this.queue.on('error', (error) => this.o.logger.warn({ err: String(error) }, 'queue: Redis error'));
  }

  private async process(job: Job<TaskJob>, token: string | undefined): Promise<void> {
    if (this.engine.stopping) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const { runId, key } = job.data;
    const run = await this.runInfo(runId);
    const lock = { key: `${this.worker!.toKey(job.id!)}:lock`, token: token ?? '' };
    const store = await RedisStore.forTask(this.redis, this.keys, runId, key, lock);
    const task = store.state.tasks.get(key);
    if (!task) return;
    // Another worker took the job over (this one froze, or lost Redis, past --stalled-after): leave the task.
    const lost = new AbortController();
    store.onLost = () => lost.abort();
    this.lost.set(job.id!, lost);
    try {
      await this.drive(job, token, store, task, run, lost.signal);
    } finally {
      this.lost.delete(job.id!);
    }
  }

  private async drive(
    job: Job<TaskJob>,
    token: string | undefined,
    store: RedisStore,
    task: TaskState,
    run: { outDir: string; taskTimeoutMs: number },
    lost: AbortSignal,
  ): Promise<void> {
    const { runId, key } = job.data;
    store.onAppended = (record, reply) => {
      if (record.t === 'submitted' && !reply.ownLock) this.orphaned(runId, key, record.n);
      if (reply.open === 0 && 'key' in record && isSettled(store.state.tasks.get(record.key))) {
        void writeRunReports(this.redis, this.keys, runId, run.outDir)
          .then((totals) => {
            this.o.logger.info({ runId, outDir: run.outDir, totals }, 'run finished; reports written');
            this.o.onRunSettled?.(runId, { outDir: run.outDir, totals });
          })
          .catch((error) => this.o.logger.warn({ runId, err: String(error) }, 'cannot write the reports'));
      }
    };
    this.members.set(task, `${runId}.${key}`);
    const owner = await this.redis.hget(this.keys.run(runId), `owner:${task.id}`);
    const scope: RunScope = {
      store,
      outDir: run.outDir,
      idOwners: new Map([[task.id, owner ?? key]]),
      taskTimeoutMs: run.taskTimeoutMs,
      inFlight: this.p.inFlight,
      frames: this.p.frames,
      uploadCache: this.p.uploadCache,
      lost,
    };
    const ctx = this.engine.contextFor(scope);
    const plan: PlannedTask | undefined = planOf(task);
    const taskRun = this.engine.prepare(task, plan, scope, ctx);
    if (taskRun) await this.engine.drive(taskRun, ctx);
    else this.p.inFlight.free(this.members.get(task)!);
    await store.flush().catch((error) => {
      if (verdictOf(internalError(error).code) === 'fatal') this.engine.failRun(error);
    });
    if (isSettled(task) && !lost.aborted) {
      this.o.logger.info({ runId, id: task.id, key, outcome: task.phase }, 'task settled');
      this.o.onTaskSettled?.(runId, task);
    }
    if ((lost.aborted || this.engine.stopping) && !isSettled(task)) {
      this.handedBack++;
      // Stopped before the task was done: back to the queue for another worker (or this one, later). When the job
      // is another worker's already, moving it fails: it is theirs to finish, and it must not be completed here.
      await job.moveToWait(token).catch(() => {});
      throw new WaitingError();
    }
  }

  /**
   * This worker lost the task's job (it stalled: frozen, cut off from Redis) while its submit was on the wire, and
   * the provider's task id came back after all. The outcome is recorded (it is a fact), but whoever took the job
   * over may already have settled the task as unknown: a job of its own makes sure the task is driven on.
   */
  private orphaned(runId: string, key: string, n: number): void {
    this.o.logger.warn(
      { runId, key },
      'a submit answered after this worker lost the task; queueing it again',
    );
    void this.queue
      .add(
        'task',
        { runId, key },
        { jobId: `${jobIdOf(runId, key)}.r${n}`, removeOnComplete: true, removeOnFail: true },
      )
      .catch((error) =>
        this.o.logger.error({ runId, key, err: String(error) }, 'cannot queue the task again'),
      );
  }

  private async runInfo(runId: string): Promise<{ outDir: string; taskTimeoutMs: number }> {
    let info = this.outDirs.get(runId);
    if (!info) {
      const h = await this.redis.hgetall(this.keys.run(runId));
      info = { outDir: h.outDir ?? '', taskTimeoutMs: Number(h.taskTimeoutMs ?? 30 * 60_000) };
      this.outDirs.set(runId, info);
    }
    return info;
  }

  /**
   * Stop taking jobs; the tasks being driven settle their calls and go back to the queue. Resolves when every job
   * has been handed back and the connections are closed: true, or false when Redis did not answer in time (the
   * jobs stall and are taken over; commands of the closed connections may still hold timers — exit the process).
   */
  async stop(): Promise<boolean> {
    for (const t of this.timers) clearInterval(t);
    this.engine.stop();
    // BullMQ's close never returns while Redis is unreachable (taskforcesh/bullmq#4656): past the grace, the jobs
    // are left to stall and be taken over, as a killed worker's are.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => {
      timer = setTimeout(r, STOP_GRACE_MS + CLOSE_SLACK_MS, 'late');
    });
    const closed = Promise.all([this.worker?.close(), this.queue.close()]);
    const handedBack = (await Promise.race([closed, late])) !== 'late';
    clearTimeout(timer);
    if (!handedBack) {
      this.o.logger.warn({}, 'Redis does not answer: the tasks of this worker are left to be taken over');
    }
    await this.engine.idle();
    this.p.inFlight.close();
    const over = new Flf2vError('E_ABORTED', 'the worker stopped', { retryable: false });
    if (this.p.gate instanceof RedisRateLimiter) {
      this.p.gate.close(over);
      await this.p.gate.drain();
    }
    await this.p.uploadCache?.flush();
    await this.p.client.close().catch(() => {});
    for (const c of this.p.connections) c.disconnect();
    return handedBack;
  }

  /** Abort calls in flight now (a second SIGINT). */
  abort(): void {
    this.engine.abort();
  }
}

function isSettled(task: TaskState | undefined): boolean {
  return task?.phase === 'succeeded' || task?.phase === 'failed' || task?.phase === 'unknown';
}
