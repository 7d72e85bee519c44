/**
 * The state journal's records: one per transition. Applying a record twice has the same effect as applying it
 * once (the reducer in `run-state.ts` is idempotent), which keeps compaction and crash recovery simple.
 */

import type { Duration, Resolution } from '@flf2v/core/rules';
import type { ErrorCode } from '../errors.js';

export const JOURNAL_FORMAT_VERSION = 1;

/** An error as journaled and reported (journals of earlier versions may hold codes no longer raised). */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** A frame as the journal remembers it: enough to show it in a report and to find its upload again. */
export interface FrameRecord {
  /** As written in the manifest. */
  display: string;
  /** Absolute path (local files). */
  path?: string;
  /** Content hash (local files). */
  sha256?: string;
  /** http(s) URL given in the manifest. */
  url?: string;
}

/** A task's parameters as planned (validated before they were journaled). */
export interface TaskParamsRecord {
  selected_model: string;
  prompt: string;
  negative_prompt?: string;
  resolution: Resolution;
  aspect_ratio?: string;
  duration: Duration;
  number_of_videos: number;
  need_expand_prompt?: boolean;
}

export type JournalRecord =
  /** First line of every journal file. `generation` pairs it with the snapshot it continues. */
  | {
      t: 'header';
      v: number;
      generation: number;
      tool: string;
      job: string;
      manifestHash: string;
      createdAt: string;
    }
  /** A runner session started on this directory. */
  | {
      t: 'session';
      n: number;
      at: string;
      tool: string;
      manifestHash: string;
      /** The manifest path as given on the command line. */
      manifest: string;
      pid: number;
      host: string;
      limits: { submitRpm?: number; queryRpm?: number; maxInFlight?: number };
      /** Where this session sent its requests (absent in journals written before 0.1's provider check). */
      provider?: ProviderIdentity;
    }
  /**
   * A task entered this run directory (its first appearance in the manifest, or a take `--retake` started).
   * `take`: which generation of shot `id` it is, written only above 1; `retake`: made by `--retake`, not written
   * in the manifest.
   */
  | {
      t: 'planned';
      key: string;
      id: string;
      at: string;
      params: TaskParamsRecord;
      image: FrameRecord;
      last_image: FrameRecord;
      take?: number;
      retake?: true;
    }
  /** `flf2v choose`: shot `id`'s take `take` is the one its film uses (take 1 until one is chosen). */
  | { t: 'chosen'; id: string; take: number; at: string }
  /** A frame (by content hash) was uploaded; its URL can be reused until it ages out. */
  | { t: 'uploaded'; sha256: string; url: string; at: string }
  /** Durable BEFORE the POST leaves: submission number `n` of this task is about to be sent. */
  | { t: 'intent'; key: string; n: number; at: string }
  /** The POST of submission `n` answered with a taskId. */
  | { t: 'submitted'; key: string; n: number; taskId: string; at: string; attempts: number }
  /** Submission `n` provably created nothing (refused, 429, 4xx…): it does not count as sent. */
  | { t: 'not_created'; key: string; n: number; at: string; error: ErrorRecord }
  /** Submission `n` may or may not have created a task: never re-sent without --resubmit-unknown. */
  | { t: 'unknown'; key: string; n: number; at: string; error: ErrorRecord }
  /** The provider reported the task complete, with its result URLs. */
  | { t: 'completed'; key: string; taskId: string; urls: string[]; at: string; attempts: number }
  /** Video `index` of the task is on disk, verified. */
  | {
      t: 'downloaded';
      key: string;
      index: number;
      path: string;
      url: string;
      sha256: string;
      bytes: number;
      at: string;
      attempts: number;
    }
  /** Video `index` of a finished task is gone from disk (deleted, moved, cut short): it is fetched again. */
  | { t: 'video_missing'; key: string; index: number; at: string }
  /** The task failed permanently (moderation, provider FAILED, validation…). */
  | { t: 'failed'; key: string; at: string; stage: string; error: ErrorRecord; attempts: number }
  /** The task ran past the task timeout; it keeps its taskId and is polled again on resume. */
  | { t: 'stalled'; key: string; at: string }
  /**
   * A task leaves `failed`/`unknown` because the user asked: `retry-failed` polls or downloads again what can be
   * (the task may have finished after all), `resubmit-*` forgets the taskId and sends the task again.
   */
  | {
      t: 'reopened';
      key: string;
      at: string;
      reason: 'retry-failed' | 'resubmit-failed' | 'resubmit-unknown';
    }
  /**
   * The session is still running (about once a minute), so that a later session can tell how long a killed one
   * ran. `suspendedMs`: just before this record the machine slept (the wall clock moved that much further than
   * the process's monotonic clock); that time is not session time (see `SessionSpan`).
   */
  | { t: 'heartbeat'; at: string; suspendedMs?: number; stats?: Partial<RequestStats> }
  /** Request counters of session `session`, written when it ends. */
  | {
      t: 'stats';
      session: number;
      at: string;
      stats: RequestStats;
      state: 'finished' | 'interrupted';
      /** The error that stopped the session before its work was done (a wrong key, a full disk). */
      stoppedBy?: ErrorRecord;
    };

export interface RequestStats {
  upload: number;
  submit: number;
  status: number;
  result: number;
  download: number;
  rateLimited: number;
  retries: number;
}

export function emptyStats(): RequestStats {
  return { upload: 0, submit: 0, status: 0, result: 0, download: 0, rateLimited: 0, retries: 0 };
}

/**
 * Which provider a session talked to. `simulator`: the embedded simulator (no base URL: its port changes every
 * run) or one on a loopback address; `provider`: anything else, with its base URL.
 */
export interface ProviderIdentity {
  kind: 'simulator' | 'provider';
  baseUrl?: string;
}

/** A journal record about one task, other than its `planned` record. */
export type TaskRecord = Exclude<Extract<JournalRecord, { key: string }>, { t: 'planned' }>;
