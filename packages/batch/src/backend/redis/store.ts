import type { Redis } from 'ioredis';
import { BatchError } from '../../errors.js';
import type { JournalRecord } from '../../state/records.js';
import { RunState } from '../../state/run-state.js';
import type { StateStore } from '../../state/store.js';
import type { RedisKeys } from './keys.js';
import type { RedisScripts } from './scripts.js';

/** How the `append` script treats a record (see `scripts.ts`). */
function kindOf(record: JournalRecord): 'run' | 'planned' | 'intent' | 'outcome' | 'decision' | 'fact' {
  switch (record.t) {
    case 'header':
    case 'session':
    case 'heartbeat':
    case 'stats':
      return 'run';
    case 'planned':
      return 'planned';
    case 'intent':
      return 'intent';
    case 'submitted':
    case 'not_created':
    case 'unknown':
      return 'outcome';
    case 'failed':
    case 'stalled':
    case 'reopened':
      return 'decision';
    default:
      return 'fact';
  }
}

export interface AppendReply {
  /** 1 appended, 0 already planned, -1 another worker holds the job, -2 another intent is open. */
  status: number;
  /** The run's tasks not yet settled, after this record. */
  open: number;
  /** The writer still holds its job's lock (always 1 without one). */
  ownLock: boolean;
}

/**
 * Records of one run into Redis through the `append` script, in order (one connection pipelines them), each
 * applied to `state` first — the same reducer as the file journal. A worker opens one for the task it drives (its
 * `state` holds that task's records, its job's lock fences its intents and decisions); `flf2v enqueue` one per
 * run, without a lock.
 */
export class RedisStore implements StateStore {
  private last: Promise<unknown> = Promise.resolve();
  private failure?: BatchError;
  /**
   * Called after a record was appended (the reply tells how many tasks of the run are still open, and whether the
   * writer still held its job's lock).
   */
  onAppended?: (record: JournalRecord, reply: AppendReply) => void;
  /** Called once Redis says the writer no longer holds its job (another worker took the task over). */
  onLost?: () => void;

  constructor(
    private readonly redis: Redis & RedisScripts,
    private readonly keys: RedisKeys,
    private readonly runId: string,
    readonly state: RunState,
    /** The job's lock (key and token) fencing intents and decisions; none for a producer. */
    private readonly lock?: { key: string; token: string },
  ) {}

  /**
   * A worker's store for one task: its records so far (and the run's uploads are looked up on demand).
   * @throws BatchError `E_BACKEND` when Redis cannot be read
   */
  static async forTask(
    redis: Redis & RedisScripts,
    keys: RedisKeys,
    runId: string,
    key: string,
    lock: { key: string; token: string },
  ): Promise<RedisStore> {
    const state = new RunState();
    try {
      for (const line of await redis.lrange(keys.taskLog(runId, key), 0, -1)) {
        state.apply(JSON.parse(line) as JournalRecord);
      }
    } catch (cause) {
      throw backendError(`cannot read task ${key.slice(0, 8)} of run ${runId}`, cause);
    }
    return new RedisStore(redis, keys, runId, state, lock);
  }

  append(record: JournalRecord): void {
    if (this.failure) throw this.failure;
    this.state.apply(record);
    this.last = this.send(record).catch((error: unknown) => {
      this.failure ??= error instanceof BatchError ? error : backendError('cannot write to Redis', error);
    });
  }

  async appendDurable(record: JournalRecord): Promise<void> {
    if (this.failure) throw this.failure;
    await this.last;
    const reply = await this.send(record);
    if (reply.status < 0) {
      throw new BatchError(
        'E_TASK_TAKEN',
        reply.status === -1
          ? 'another worker has taken this task over'
          : 'another worker is sending this task (its intent is open)',
      );
    }
    // Applied once Redis accepted it: a refused intent never reaches the local state.
    this.state.apply(record);
  }

  async flush(): Promise<void> {
    await this.last;
    if (this.failure) throw this.failure;
  }

  async compact(): Promise<void> {
    // Redis keeps the records; nothing to fold.
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async send(record: JournalRecord): Promise<AppendReply> {
    const kind = kindOf(record);
    const key = 'key' in record ? record.key : '';
    const lock = kind === 'intent' || kind === 'decision' || kind === 'outcome' ? this.lock : undefined;
    const phase = key ? (this.state.tasks.get(key)?.phase ?? '') : '';
    const upload = record.t === 'uploaded' ? record : undefined;
    let raw: [number, number, number];
    try {
      raw = await this.redis.flf2vAppend(
        this.keys.run(this.runId),
        this.keys.runLog(this.runId),
        key ? this.keys.task(this.runId, key) : this.keys.run(this.runId),
        key ? this.keys.taskLog(this.runId, key) : this.keys.runLog(this.runId),
        lock?.key ?? this.keys.run(this.runId),
        this.keys.uploads,
        JSON.stringify(record),
        kind,
        lock?.token ?? '',
        String(record.t === 'intent' ? record.n : 0),
        kind === 'intent' ? '' : phase,
        upload?.sha256 ?? '',
        upload ? JSON.stringify({ url: upload.url, at: upload.at }) : '',
        record.t === 'planned' ? record.id : '',
        record.t === 'planned' ? record.key : '',
      );
    } catch (cause) {
      throw backendError('cannot write to Redis', cause);
    }
    const reply = { status: raw[0], open: raw[1], ownLock: raw[2] === 1 };
    if (reply.status >= 0) this.onAppended?.(record, reply);
    else if (kind !== 'intent') {
      // A decision refused: this worker no longer holds the job. Later appends say so.
      this.failure ??= new BatchError('E_TASK_TAKEN', 'another worker has taken this task over');
    }
    if (reply.status === -1 || (this.lock && !reply.ownLock)) this.onLost?.();
    return reply;
  }
}

export function backendError(what: string, cause: unknown): BatchError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new BatchError('E_BACKEND', `${what}: ${reason}`, { cause });
}
