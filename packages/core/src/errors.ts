/**
 * Error taxonomy. Every error this toolkit raises is a `Flf2vError` with a stable machine-readable `code` and
 * a `retryable` verdict; callers branch on those, never on message text. Messages and fields never contain the
 * API key (see `redact.ts`).
 */

/**
 * Codes raised by @flf2v/core. Packages above add their own (`BatchErrorCode` in @flf2v/batch: E_MANIFEST,
 * E_LOCKED, E_TASK_FAILED, …) as subclasses of `Flf2vError` bound to their union.
 */
export type ApiErrorCode =
  /** 401/403 from the API: the key is missing, wrong or not allowed. Permanent. */
  | 'E_AUTH'
  /** HTTP 429 (or a provider code that means "slow down"). Transient; `retryAfterMs` when the server said. */
  | 'E_RATE_LIMITED'
  /** HTTP 5xx. Transient. */
  | 'E_SERVER'
  /** Connection refused / reset / DNS failure. Transient. */
  | 'E_NETWORK'
  /** Connect, headers or body timeout. Transient. */
  | 'E_TIMEOUT'
  /** A body we cannot read: not JSON, truncated, or missing the fields the endpoint promises. Transient. */
  | 'E_BAD_RESPONSE'
  /** HTTP 200 with `code != 0`: a business error; `providerCode` and `providerMessage` kept. Permanent. */
  | 'E_PROVIDER'
  /** Content moderation rejected the prompt or frames. Permanent: retrying never helps. */
  | 'E_MODERATION'
  /** The request is invalid (local validation, or HTTP 400/404/413/422 from the API). Permanent. */
  | 'E_INVALID_REQUEST'
  /** A result URL was refused (403/404/410): query the result again for fresh URLs. */
  | 'E_URL_EXPIRED'
  /** A download finished but its bytes do not match what the server announced. Transient. */
  | 'E_DOWNLOAD'
  /** The caller aborted (AbortSignal). */
  | 'E_ABORTED'
  /**
   * A local file could not be written or read (disk full, no permission, read-only filesystem): nothing the
   * provider did, and no retry helps until a person fixes it. `path`-free message with the system code.
   */
  | 'E_LOCAL_IO'
  /** Bad client configuration (no key, malformed base URL, bad option). Permanent. */
  | 'E_CONFIG';

export interface Flf2vErrorOptions {
  retryable: boolean;
  cause?: unknown;
}

/**
 * The base of every error flf2v raises. `C` is the union of codes the raising package declares: core's own
 * errors are `Flf2vError<ApiErrorCode>`, and `new Flf2vError('E_WHATEVER', …)` does not compile — a package with
 * more codes declares them in its own union and subclass (`BatchError`).
 */
export class Flf2vError<C extends string = ApiErrorCode> extends Error {
  readonly code: C;
  readonly retryable: boolean;

  constructor(code: NoInfer<C>, message: string, options: Flf2vErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Flf2vError';
    this.code = code;
    this.retryable = options.retryable;
  }

  /** The shape persisted in journals and reports: `{ code, message, retryable }` plus subclass context. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** Names of the provider calls. Endpoint paths for upload/status/result are configurable (API.md: inferred). */
export type EndpointName = 'upload' | 'submit' | 'status' | 'result' | 'download';

export interface ApiErrorContext {
  endpoint: EndpointName;
  method: string;
  /** Path (and host for downloads) without query string: signed URLs carry credentials in their query. */
  path: string;
  status?: number;
  providerCode?: number | string;
  providerMessage?: string;
  /** The response body, truncated (see `BODY_SNIPPET_CHARS`) and redacted. */
  body?: string;
  retryAfterMs?: number;
  /**
   * `E_RATE_LIMITED` only: whether the provider refused because of its request rate (`rate`) or because too
   * many of this key's tasks are running at once (`concurrency`), judged from its message.
   */
  limit?: 'rate' | 'concurrency';
  /**
   * Submit only: whether the task may exist at the provider despite the error. `false` means provably nothing
   * was created (connection refused, 429, 503, 4xx, code != 0); `true` means the outcome is unknown and the
   * caller must not re-send silently (reset after sending, 500/502/504, response timeout, unreadable 200).
   */
  maybeCreated?: boolean;
  /** How many attempts the retry policy made before giving up with this error. */
  attempts?: number;
}

export const BODY_SNIPPET_CHARS = 2048;

export class ApiError extends Flf2vError {
  readonly endpoint: EndpointName;
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly providerCode?: number | string;
  readonly providerMessage?: string;
  readonly body?: string;
  readonly retryAfterMs?: number;
  readonly limit?: 'rate' | 'concurrency';
  readonly maybeCreated?: boolean;
  attempts?: number;

  constructor(code: ApiErrorCode, message: string, context: ApiErrorContext, options: Flf2vErrorOptions) {
    super(code, message, options);
    this.name = 'ApiError';
    this.endpoint = context.endpoint;
    this.method = context.method;
    this.path = context.path;
    this.status = context.status;
    this.providerCode = context.providerCode;
    this.providerMessage = context.providerMessage;
    this.body = context.body === undefined ? undefined : truncate(context.body, BODY_SNIPPET_CHARS);
    this.retryAfterMs = context.retryAfterMs;
    this.limit = context.limit;
    this.maybeCreated = context.maybeCreated;
    this.attempts = context.attempts;
  }

  override toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      endpoint: this.endpoint,
      method: this.method,
      path: this.path,
    };
    if (this.status !== undefined) out.status = this.status;
    if (this.providerCode !== undefined) out.providerCode = this.providerCode;
    if (this.providerMessage !== undefined) out.providerMessage = this.providerMessage;
    if (this.retryAfterMs !== undefined) out.retryAfterMs = this.retryAfterMs;
    if (this.limit !== undefined) out.limit = this.limit;
    if (this.maybeCreated !== undefined) out.maybeCreated = this.maybeCreated;
    if (this.attempts !== undefined) out.attempts = this.attempts;
    if (this.body !== undefined) out.body = this.body;
    return out;
  }
}

export function isFlf2vError(error: unknown, code?: string): error is Flf2vError<string> {
  return error instanceof Flf2vError && (code === undefined || error.code === code);
}

/**
 * The provider is struggling — over its rate (429), failing (5xx), unreachable, or too slow to answer: worth
 * waiting for, and never the task's fault. The one definition the client's retries, the rate limiter's breaker
 * and the run's task policy share.
 */
export const STRUGGLING_CODES: ReadonlySet<string> = new Set<ApiErrorCode>([
  'E_RATE_LIMITED',
  'E_SERVER',
  'E_NETWORK',
  'E_TIMEOUT',
]);

/** Worth another attempt of the same call: the provider is struggling, or an answer arrived broken. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set<ApiErrorCode>([
  ...(STRUGGLING_CODES as ReadonlySet<ApiErrorCode>),
  'E_BAD_RESPONSE',
  'E_DOWNLOAD',
]);

export function isStruggling(code: string): boolean {
  return STRUGGLING_CODES.has(code);
}

export function isTransient(code: string): boolean {
  return TRANSIENT_CODES.has(code);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more chars)`;
}

const LOCAL_IO_HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the filesystem is read-only',
  EACCES: 'no permission',
  EPERM: 'no permission',
};

/**
 * What a failed local file operation's system code means to a person (`ENOSPC` → "the disk is full"), or
 * undefined for codes that are not about the machine's disks and permissions.
 */
export function localIoHint(code: string | undefined): string | undefined {
  return code === undefined ? undefined : LOCAL_IO_HINTS[code];
}
