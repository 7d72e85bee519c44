export { createClient } from './client.js';
export { type ApiErrorContext, BODY_SNIPPET_CHARS, type EndpointName, truncate } from './errors.js';
export { type NormalizedClientOptions, normalizeClientOptions, type Route } from './normalize.js';
export {
  type ClientOptions,
  DEFAULT_BASE_URL,
  DEFAULT_CONCURRENCY_LIMIT_PATTERNS,
  DEFAULT_CONNECTIONS,
  DEFAULT_ENDPOINTS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MODERATION_PATTERNS,
  DEFAULT_RATE_LIMIT_PATTERNS,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
  type Endpoints,
  type RetryOptions,
  type TimeoutOptions,
} from './options.js';
export { REDACTED, redactError, redactText, redactUrl } from './redact.js';
export { parseRetryAfter } from './retry-after.js';
// The request rules and error classes, also importable alone as `@flf2v/core/rules` (no HTTP client loaded).
export * from './rules.js';
export { parseProviderTimestamp } from './timestamp.js';
export type {
  AttemptEvent,
  CallClass,
  CallGate,
  CallOptions,
  CallOutcome,
  Client,
  DownloadResult,
  Logger,
  ResultUrls,
  StatusResult,
  SubmitResult,
  TaskStatus,
  UploadInput,
  UploadResult,
} from './types.js';
