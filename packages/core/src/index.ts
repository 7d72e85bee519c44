export { createClient } from './client.js';
export {
  ApiError,
  type ApiErrorCode,
  type ApiErrorContext,
  BODY_SNIPPET_CHARS,
  type EndpointName,
  Flf2vError,
  type Flf2vErrorOptions,
  isFlf2vError,
  truncate,
} from './errors.js';
export { type NormalizedClientOptions, normalizeClientOptions, type Route } from './normalize.js';
export {
  type ClientOptions,
  DEFAULT_BASE_URL,
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
export {
  type CoerceOptions,
  type CoerceResult,
  coerceTaskField,
  DEFAULT_MODEL,
  DEFAULT_REQUEST_RULES,
  DURATIONS,
  type Duration,
  type FieldIssue,
  type GenerationInput,
  type GenerationRequest,
  isHttpUrl,
  REQUIRED_TASK_FIELDS,
  RESOLUTIONS,
  type RequestRules,
  type Resolution,
  showValue,
  TASK_FIELDS,
  TASK_TYPE,
  type TaskField,
  validateGenerationRequest,
} from './request.js';
export { parseRetryAfter } from './retry-after.js';
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
