import { type ApiErrorCode, Flf2vError } from '@flf2v/core/rules';

/**
 * Codes raised by @flf2v/batch, on top of core's API codes (`ApiErrorCode`). `retryable` is false for all of
 * them: they need a person (fix the manifest, wait for the other runner, repair the directory) or say what
 * became of a task. Only codes that are raised are declared here.
 */
export type BatchErrorCode =
  /** Bad command-line usage: unknown option, malformed number, missing argument. */
  | 'E_USAGE'
  /** The manifest is invalid; `problems` lists every one of them. */
  | 'E_MANIFEST'
  /** Another runner holds the run directory's lock. */
  | 'E_LOCKED'
  /** The state journal is damaged before its last line (a torn last line alone is tolerated). */
  | 'E_JOURNAL_CORRUPT'
  /** The run directory belongs to a different job, or its state format is newer than this tool. */
  | 'E_STATE'
  /**
   * The run directory holds work sent to another kind of provider: a rehearsal against a simulator, resumed
   * against the real provider (or the reverse). Nothing is sent; choose another --out.
   */
  | 'E_OTHER_PROVIDER'
  /** The submit outcome is unknown (killed or timed out mid-request): not re-sent without --resubmit-unknown. */
  | 'E_SUBMIT_UNKNOWN'
  /** The provider reports the task FAILED or CANCELED. Final for that taskId; --retry-failed sends it again. */
  | 'E_TASK_FAILED'
  /** Something flf2v did not expect (a bug): the task (or the run) stops with it. Please report it. */
  | 'E_INTERNAL'
  /**
   * The Redis backend cannot be used: unreachable, or not configured to keep what it is told (`appendonly yes`,
   * `appendfsync always`, `maxmemory-policy noeviction`), or its data is not flf2v's. Nothing was sent.
   */
  | 'E_BACKEND'
  /** Another worker has taken this task over (its job's lock moved on): this one leaves it alone. */
  | 'E_TASK_TAKEN'
  /** A command was interrupted (SIGINT/SIGTERM) before it finished (`flf2v film`: nothing half-written is left). */
  | 'E_INTERRUPTED'
  /** ffmpeg or ffprobe is not installed (not on PATH, or FFMPEG_PATH/FFPROBE_PATH is not an executable). */
  | 'E_FFMPEG_MISSING'
  /** ffmpeg failed while joining clips; the message carries the end of what it said. */
  | 'E_FFMPEG_FAILED'
  /** A clip ffprobe cannot read, cut short, or without a video stream. */
  | 'E_CLIP_INVALID'
  /** A shot of the film has no video to join: it failed, is still pending or unknown, or its file is gone. */
  | 'E_FILM_INCOMPLETE';

/** Every code an flf2v error can carry: core's and this package's. Reports and the journal hold these. */
export type ErrorCode = ApiErrorCode | BatchErrorCode;

export class BatchError extends Flf2vError<BatchErrorCode> {
  constructor(code: BatchErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, cause: options.cause });
    this.name = 'BatchError';
  }
}

export function usageError(message: string): BatchError {
  return new BatchError('E_USAGE', message);
}

/** An error that is not one of ours, as the `E_INTERNAL` it means (its message kept, the key never in it). */
export function internalError(error: unknown): Flf2vError<ErrorCode> {
  if (error instanceof Flf2vError) return error as Flf2vError<ErrorCode>;
  return new BatchError('E_INTERNAL', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
