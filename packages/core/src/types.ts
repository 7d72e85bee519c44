import type { EndpointName } from './errors.js';
import type { GenerationRequest } from './request.js';

/**
 * Provider call classes. Each has its own timeouts, retry policy and rate limit: `query` covers both status
 * and result calls (providers count them together).
 */
export type CallClass = 'upload' | 'submit' | 'query' | 'download';

/** Task statuses the provider documents; anything else is surfaced as `UNKNOWN` with `rawStatus`. */
export type TaskStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'UNKNOWN';

export interface SubmitResult {
  taskId: string;
  /** The provider's response timestamp, parsed from its `…+08:00[Asia/Shanghai]` form, when present. */
  ts?: Date;
}

export interface StatusResult {
  status: TaskStatus;
  /** Exactly what the provider said, e.g. `RUNNING` or an undocumented `QUEUED`. */
  rawStatus: string;
  /** 0–100 when the provider reports a parsable progress. */
  progress?: number;
  /** The provider's failure reason for FAILED/CANCELED tasks, when it gives one. */
  message?: string;
  /** The parsed body (redacted), for diagnostics. */
  raw: unknown;
}

export interface ResultUrls {
  urls: string[];
  raw: unknown;
}

export interface UploadResult {
  /** What goes into `input.image` / `input.last_image` (the provider's `data.fullPath`). */
  url: string;
  /** The parsed body (redacted), for diagnostics. */
  raw: unknown;
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
}

export interface CallOptions {
  /** Aborts the call wherever it is, a request on the wire included (a submit cut there may have created its task). */
  signal?: AbortSignal;
  /**
   * Aborts only the waits before a request leaves (the gate's turn, a backoff), never a request on the wire:
   * a stop that must not turn a known outcome into an unknown one. Aborted: `E_ABORTED`, nothing sent.
   */
  waitSignal?: AbortSignal;
  /**
   * Called on every attempt once the gate has granted it, just before its request leaves: the place to make
   * an intent durable (a journal write), so that no time passes between the intent and the request but the
   * write itself. Returns false to send nothing (`E_ABORTED`, nothing sent); a rejection is rethrown as is.
   * Either way the gate's slot is handed back unused.
   */
  beforeSend?: () => Promise<boolean | undefined> | boolean | undefined;
}

export interface UploadInput {
  /** A local file path or the bytes themselves. */
  file: string | Uint8Array;
  /** Sent as the multipart filename; derived from the path when omitted. */
  filename?: string;
  /** `image/png` or `image/jpeg`; sniffed from the bytes when omitted. */
  contentType?: string;
}

/**
 * A gate every provider request passes through, once per attempt (retries included), so one limiter can be
 * shared by every stage of a run. `acquire` resolves when the call may be sent; `settle` reports what came
 * back so an adaptive limiter can slow down on 429 and recover afterwards.
 */
export interface CallGate {
  acquire(callClass: CallClass, signal?: AbortSignal): Promise<void>;
  settle(callClass: CallClass, outcome: CallOutcome): void;
}

export interface CallOutcome {
  /** HTTP status, or undefined when no response arrived. */
  status?: number;
  rateLimited: boolean;
  /** From `Retry-After` (seconds or HTTP-date), when the server sent one. */
  retryAfterMs?: number;
  /** For 429s: a request-rate limit, or a cap on tasks running at once (see `ApiError.limit`). */
  limit?: 'rate' | 'concurrency';
  /** The attempt failed in a way that says the provider is down or failing: 5xx, a broken connection, a timeout (a 429 is `rateLimited`). */
  outage?: boolean;
}

/**
 * One provider attempt as the client saw it, reported through `onAttempt` after the attempt ended and the
 * retry decision was made (so `willRetry` and `delayMs` are final). Requests, 429s and retries are counted
 * from these.
 */
export interface AttemptEvent {
  endpoint: EndpointName;
  callClass: CallClass;
  /** 1 for the first try. */
  attempt: number;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** The error code this attempt ended with; absent on success. */
  code?: string;
  /** From `acquire` resolving to the end of the attempt (gate wait excluded). */
  durationMs: number;
  willRetry: boolean;
  /** The backoff before the next attempt, when `willRetry`. */
  delayMs?: number;
  /** What the server asked for in `Retry-After`, when it did. */
  retryAfterMs?: number;
}

/** The subset of a pino logger the client uses. Core does not depend on pino. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** pino's; when present, debug objects are only built when debug is enabled. */
  isLevelEnabled?(level: string): boolean;
}

export interface Client {
  upload(input: UploadInput | string | Uint8Array, options?: CallOptions): Promise<UploadResult>;
  /** Never re-sent after an ambiguous failure: see `ApiError.maybeCreated`. */
  submit(request: GenerationRequest, options?: CallOptions): Promise<SubmitResult>;
  status(taskId: string, options?: CallOptions): Promise<StatusResult>;
  result(taskId: string, options?: CallOptions): Promise<ResultUrls>;
  /** Streams to a temp file beside `destPath`, fsyncs, renames atomically and fsyncs the directory. */
  download(url: string, destPath: string, options?: CallOptions): Promise<DownloadResult>;
  close(): Promise<void>;
}
