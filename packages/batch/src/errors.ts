import { Flf2vError } from '@flf2v/core/rules';

/**
 * Codes raised by @flf2v/batch, on top of core's API codes. `retryable` is false for all of them: they need a
 * person (fix the manifest, wait for the other runner, repair the directory).
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
  /** A task ran past the task timeout; it keeps its taskId and is polled again on resume. */
  | 'E_TASK_STALLED'
  /** The submit outcome is unknown (killed or timed out mid-request): not re-sent without --resubmit-unknown. */
  | 'E_SUBMIT_UNKNOWN'
  /** --max-videos would be exceeded. */
  | 'E_BUDGET'
  /** The run was interrupted (SIGINT/SIGTERM) before the task finished. */
  | 'E_INTERRUPTED'
  /** ffmpeg or ffprobe is not installed (not on PATH, or FFMPEG_PATH/FFPROBE_PATH is not an executable). */
  | 'E_FFMPEG_MISSING'
  /** ffmpeg failed while joining clips; the message carries the end of what it said. */
  | 'E_FFMPEG_FAILED'
  /** A clip ffprobe cannot read, cut short, or without a video stream. */
  | 'E_CLIP_INVALID'
  /** A shot of the film has no video to join: it failed, is still pending or unknown, or its file is gone. */
  | 'E_FILM_INCOMPLETE';

export class BatchError extends Flf2vError {
  constructor(code: BatchErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, cause: options.cause });
    this.name = 'BatchError';
  }
}

export function usageError(message: string): BatchError {
  return new BatchError('E_USAGE', message);
}
