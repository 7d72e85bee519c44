import type { Dispatcher } from 'undici';
import type { RequestRules } from './request.js';
import type { AttemptEvent, CallClass, CallGate, Logger } from './types.js';

/**
 * Client options and their named defaults. They are checked in one place, `normalizeClientOptions`
 * (`normalize.ts`); everything below `createClient` works with the normalized shape and never re-checks.
 */

/** @default 'https://cloud.baicaiinfer.com' */
export const DEFAULT_BASE_URL = 'https://cloud.baicaiinfer.com';

export interface Endpoints {
  /** @default '/v1/videos/generations' */
  submit: string;
  /** @default '/v1/resources/upload' (API.md: inferred) */
  upload: string;
  /** Must contain `{taskId}`. @default '/v1/comfyui/tasks/{taskId}/status' (API.md: inferred) */
  status: string;
  /** Must contain `{taskId}`. @default '/v1/comfyui/tasks/{taskId}/result' (API.md: inferred) */
  result: string;
}

export const DEFAULT_ENDPOINTS: Readonly<Endpoints> = Object.freeze({
  submit: '/v1/videos/generations',
  upload: '/v1/resources/upload',
  status: '/v1/comfyui/tasks/{taskId}/status',
  result: '/v1/comfyui/tasks/{taskId}/result',
});

export interface TimeoutOptions {
  /** TCP + TLS connect. Applies to the default dispatcher only (undici sets it per connection pool). */
  connectMs: number;
  /** From the request being sent to the response headers. */
  headersMs: number;
  /** Longest silence between two chunks of the response body. */
  bodyMs: number;
}

/**
 * @default submit { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 }
 * @default query { connectMs: 10_000, headersMs: 15_000, bodyMs: 15_000 }
 * @default upload { connectMs: 10_000, headersMs: 60_000, bodyMs: 60_000 }
 * @default download { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 }
 */
export const DEFAULT_TIMEOUTS: Readonly<Record<CallClass, Readonly<TimeoutOptions>>> = Object.freeze({
  submit: Object.freeze({ connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 }),
  query: Object.freeze({ connectMs: 10_000, headersMs: 15_000, bodyMs: 15_000 }),
  upload: Object.freeze({ connectMs: 10_000, headersMs: 60_000, bodyMs: 60_000 }),
  download: Object.freeze({ connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 }),
});

export interface RetryOptions {
  /** Total attempts including the first; 1 disables retries. */
  attempts: number;
  /** Backoff before retry n is a random delay in [0, min(maxDelayMs, baseDelayMs × 2^(n-1))] (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The longest `Retry-After` the client sleeps on by itself. A longer one ends the call with a retryable
   * `E_RATE_LIMITED` carrying `retryAfterMs`, so the caller (and its shared limiter) decides.
   */
  maxRetryAfterMs: number;
}

/**
 * @default submit { attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 }
 * @default query { attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 }
 * @default upload { attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 }
 * @default download { attempts: 5, baseDelayMs: 500, maxDelayMs: 15_000, maxRetryAfterMs: 60_000 }
 */
export const DEFAULT_RETRY: Readonly<Record<CallClass, Readonly<RetryOptions>>> = Object.freeze({
  submit: Object.freeze({ attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 }),
  query: Object.freeze({ attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 }),
  upload: Object.freeze({ attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 }),
  download: Object.freeze({ attempts: 5, baseDelayMs: 500, maxDelayMs: 15_000, maxRetryAfterMs: 60_000 }),
});

/** Connections per origin in the default dispatcher. @default 64 */
export const DEFAULT_CONNECTIONS = 64;
/** Idle keep-alive before the default dispatcher closes a socket (the server's hint wins when shorter). @default 4_000 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;

/** Provider messages that mean content moderation (API.md: HTTP 400 "…does not pass the review."). */
export const DEFAULT_MODERATION_PATTERNS: readonly (string | RegExp)[] = Object.freeze([
  'inappropriate information',
  'does not pass the review',
  'content moderation',
  'sensitive content',
  '审核',
  '违规',
  '敏感',
]);

/** Rate-limit messages that are about tasks running at once: the fix is to wait for one to finish. */
export const DEFAULT_CONCURRENCY_LIMIT_PATTERNS: readonly (string | RegExp)[] = Object.freeze([
  'concurren',
  'running task',
  'tasks running',
  'too many tasks',
  'in progress',
  '并发',
  '运行中',
  '任务数',
]);

/** Provider messages (with HTTP 200 and `code != 0`) that mean "slow down", not "this request is wrong". */
export const DEFAULT_RATE_LIMIT_PATTERNS: readonly (string | RegExp)[] = Object.freeze([
  'rate limit',
  'too many requests',
  'too many tasks',
  'concurrency',
  'concurrent',
  'qps',
  'throttl',
  'busy',
  'try again later',
  '频繁',
  '繁忙',
  '限流',
  '并发',
  '请求过多',
  '稍后再试',
]);

export interface ClientOptions {
  /** The provider key (`sk-…`). Required; never logged, never in errors. */
  apiKey: string;
  /** @default DEFAULT_BASE_URL */
  baseUrl?: string;
  /** Paths relative to `baseUrl` (or absolute URLs). @default DEFAULT_ENDPOINTS */
  endpoints?: Partial<Endpoints>;
  /** Per call class; a class given partially keeps the other defaults. @default DEFAULT_TIMEOUTS */
  timeouts?: Partial<Record<CallClass, Partial<TimeoutOptions>>>;
  /** Per call class. @default DEFAULT_RETRY */
  retry?: Partial<Record<CallClass, Partial<RetryOptions>>>;
  /** pino-compatible; the client logs one debug line per attempt. @default no logging */
  logger?: Logger;
  /**
   * An undici Dispatcher shared by every call. The client does not close it. `timeouts.*.connectMs` does not
   * apply to it. @default an undici Agent per distinct connect timeout, keep-alive, `connections` per origin
   */
  dispatcher?: Dispatcher;
  /** Default dispatcher only. @default DEFAULT_CONNECTIONS */
  connections?: number;
  /** Default dispatcher only. @default DEFAULT_KEEP_ALIVE_TIMEOUT_MS */
  keepAliveTimeoutMs?: number;
  /** Acquired before every attempt (retries included) and settled after it. @default none */
  gate?: CallGate;
  /** Called once per attempt, after it ended and the retry decision was made. Must not throw. @default none */
  onAttempt?: (event: AttemptEvent) => void;
  /** Overrides of the request value rules used by `submit`'s local validation. @default DEFAULT_REQUEST_RULES */
  rules?: Partial<RequestRules>;
  /** Case-insensitive substrings or RegExps. @default DEFAULT_MODERATION_PATTERNS */
  moderationPatterns?: readonly (string | RegExp)[];
  /** Case-insensitive substrings or RegExps. @default DEFAULT_RATE_LIMIT_PATTERNS */
  rateLimitPatterns?: readonly (string | RegExp)[];
  /**
   * Rate-limit messages that mean "too many tasks running at once" rather than "too many requests".
   * @default DEFAULT_CONCURRENCY_LIMIT_PATTERNS
   */
  concurrencyLimitPatterns?: readonly (string | RegExp)[];
  /** @default 'flf2v-core' */
  userAgent?: string;
}
