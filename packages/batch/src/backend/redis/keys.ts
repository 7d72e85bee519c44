import { createHmac } from 'node:crypto';
import type { CallClass } from '@flf2v/core';

/**
 * Which API key a run belongs to, without the key: an HMAC-SHA256 keyed with the API key over a fixed label,
 * 16 hex digits. It cannot be turned back into the key; runs of different keys never share Redis keys, limits or
 * workers. The key itself is never written to Redis.
 */
export function keyFingerprint(apiKey: string): string {
  return createHmac('sha256', apiKey).update('flf2v/redis/key-fingerprint/v1').digest('hex').slice(0, 16);
}

/**
 * The Redis keys of one API key's work, all under `flf2v:{fp}:` (`fp`: `keyFingerprint`). One run's state is a
 * hash (its header and counters), its journal (every record, in order, for status and reports) and, per task, a
 * guard hash and the task's own records (what a worker loads to drive it).
 */
export class RedisKeys {
  readonly prefix: string;

  constructor(readonly fp: string) {
    this.prefix = `flf2v:${fp}`;
  }

  /** The set of run ids. */
  get runs(): string {
    return `${this.prefix}:runs`;
  }

  /** Uploaded frames by content hash (shared by the key's runs: an upload is the account's). */
  get uploads(): string {
    return `${this.prefix}:uploads`;
  }

  /** Tasks holding an in-flight slot, scored by lease expiry (Redis time, ms). */
  get inFlight(): string {
    return `${this.prefix}:inflight`;
  }

  /** The learned cap on tasks running at the provider (absent: none learned). */
  get inFlightCap(): string {
    return `${this.prefix}:inflight:cap`;
  }

  /**
   * The shared pace of one provider call class (`RedisRateLimiter`): a hash, soft state, expiring an idle time
   * after its last use.
   */
  limit(callClass: CallClass): string {
    return `${this.prefix}:limit:${callClass}`;
  }

  run(runId: string): string {
    return `${this.prefix}:run:${runId}`;
  }

  runLog(runId: string): string {
    return `${this.prefix}:run:${runId}:log`;
  }

  task(runId: string, key: string): string {
    return `${this.prefix}:run:${runId}:t:${key}`;
  }

  taskLog(runId: string, key: string): string {
    return `${this.prefix}:run:${runId}:t:${key}:log`;
  }
}

/** The BullMQ queue of a key's tasks (prefix `flf2v:{fp}`, name `tasks`). */
export const QUEUE_NAME = 'tasks';

/** A task's job id: unique per run and task (BullMQ ids may not contain `:`). */
export function jobIdOf(runId: string, key: string): string {
  return `${runId}.${key}`;
}
