/**
 * `@flf2v/core/rules`: the request rules and the error classes without the HTTP client, for code that validates
 * or classifies but never sends (manifest validation, the CLI's entry point). Importing it does not load
 * undici, which keeps `flf2v validate` on a 100,000-row CSV about 20 MB lighter.
 */
export {
  ApiError,
  type ApiErrorCode,
  Flf2vError,
  type Flf2vErrorOptions,
  isFlf2vError,
  isStruggling,
  isTransient,
  localIoHint,
  STRUGGLING_CODES,
  TRANSIENT_CODES,
} from './errors.js';
export { REDACTED, redactText } from './redact.js';
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
