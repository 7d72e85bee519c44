import { type Envelope, findTaskId } from './_envelope.js';
import { apiError, type Exchange } from './_exchange.js';
import type { HttpResponse } from './_http.js';
import { redactText } from './redact.js';
import { parseRetryAfter } from './retry-after.js';

/**
 * An HTTP answer judged: a non-2xx status or a 2xx envelope with `code != 0` becomes a typed `ApiError`;
 * a readable success returns the parsed envelope. Message patterns only refine what the status already says
 * (moderation vs. plain invalid request, "slow down" vs. business error).
 */

export interface Classifier {
  isModeration: (message: string) => boolean;
  isRateLimit: (message: string) => boolean;
  /** A rate-limit message that is about tasks running at once rather than requests per time. */
  isConcurrencyLimit?: (message: string) => boolean;
}

function limitOf(c: Classifier, message: string | undefined): 'rate' | 'concurrency' {
  return message && c.isConcurrencyLimit?.(message) ? 'concurrency' : 'rate';
}

/** The provider's human message in an error body, whatever it calls the field. */
export function providerMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  for (const key of ['message', 'msg', 'error_message', 'errorMessage', 'detail', 'error']) {
    const v = b[key];
    if (typeof v === 'string' && v !== '') return v;
    if (key === 'error' && typeof v === 'object' && v !== null) return providerMessage(v);
  }
  return undefined;
}

function tryJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A non-2xx answer as an ApiError (also used by downloads for the statuses they do not handle). */
export function statusError(ex: Exchange, res: HttpResponse, c: Classifier) {
  const { status, text } = res;
  const json = tryJson(text);
  const message = providerMessage(json) ?? (json === undefined ? text.trim().slice(0, 200) : undefined);
  const rawCode = (json as Record<string, unknown> | undefined)?.code;
  const detail = {
    status,
    body: text,
    providerMessage: message,
    providerCode: typeof rawCode === 'number' || typeof rawCode === 'string' ? rawCode : undefined,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  };
  const said = message
    ? `: ${JSON.stringify(message.length > 200 ? `${message.slice(0, 200)}…` : message)}`
    : '';
  if (status === 401 || status === 403) {
    return apiError(
      ex,
      'E_AUTH',
      `the API key was refused (HTTP ${status})${said}; check BAICAI_API_KEY`,
      'refused',
      detail,
    );
  }
  if (status === 429) {
    return apiError(ex, 'E_RATE_LIMITED', `rate limited (HTTP 429)${said}`, 'refused', {
      ...detail,
      limit: limitOf(c, message),
    });
  }
  if (status >= 500) {
    // 503 is the one server error that says "not processed": load shedding before the application.
    return apiError(
      ex,
      'E_SERVER',
      `server error (HTTP ${status})${said}`,
      status === 503 ? 'refused' : 'maybe',
      detail,
    );
  }
  if (status === 408)
    return apiError(ex, 'E_TIMEOUT', `the server timed out (HTTP 408)${said}`, 'maybe', detail);
  if (status >= 400) {
    if (message && c.isModeration(message)) {
      return apiError(
        ex,
        'E_MODERATION',
        `content moderation rejected the request (HTTP ${status})${said}`,
        'refused',
        detail,
      );
    }
    if (message && c.isRateLimit(message)) {
      return apiError(ex, 'E_RATE_LIMITED', `rate or concurrency limit (HTTP ${status})${said}`, 'refused', {
        ...detail,
        limit: limitOf(c, message),
      });
    }
    return apiError(
      ex,
      'E_INVALID_REQUEST',
      `the request was rejected (HTTP ${status})${said}`,
      'refused',
      detail,
    );
  }
  return apiError(ex, 'E_BAD_RESPONSE', `unexpected HTTP ${status}`, 'maybe', detail);
}

/**
 * Judge a response and return its envelope `{ code: 0, data, … }`. A missing `code` is accepted when `data` is
 * there (the inferred endpoints are not documented to carry one).
 */
export function readEnvelope(ex: Exchange, res: HttpResponse, c: Classifier): Envelope {
  if (res.status < 200 || res.status > 299) throw statusError(ex, res, c);
  let text = res.text;
  for (const secret of ex.secrets) {
    if (text.includes(secret)) text = redactText(text, ex.secrets);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const what = text.trim() === '' ? 'an empty body' : 'a body that is not JSON (or is truncated)';
    throw apiError(ex, 'E_BAD_RESPONSE', `HTTP ${res.status} with ${what}`, 'maybe', {
      status: res.status,
      body: text,
    });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw apiError(
      ex,
      'E_BAD_RESPONSE',
      `expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`,
      'maybe',
      {
        status: res.status,
        body: text,
      },
    );
  }
  const env = json as Envelope;
  const code = env.code;
  if (code === 0 || code === '0' || (code === undefined && env.data !== undefined)) return env;
  if (code === undefined || code === null) {
    throw apiError(ex, 'E_BAD_RESPONSE', 'expected fields `code` and `data`, found neither', 'maybe', {
      status: res.status,
      body: text,
    });
  }
  const message = providerMessage(env) ?? '';
  const detail = {
    status: res.status,
    body: text,
    providerCode: typeof code === 'number' || typeof code === 'string' ? code : String(code),
    providerMessage: message,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  };
  const said = `code ${JSON.stringify(code)}${message ? ` ${JSON.stringify(message)}` : ''}`;
  if (ex.endpoint === 'submit' && findTaskId(env) !== undefined) {
    // A failure code next to a task id: the task may well exist. Never let that read as "nothing created".
    throw apiError(ex, 'E_BAD_RESPONSE', `${said} but the body carries a task id`, 'maybe', detail);
  }
  if (c.isModeration(message))
    throw apiError(ex, 'E_MODERATION', `content moderation rejected the request: ${said}`, 'refused', detail);
  if (c.isRateLimit(message))
    throw apiError(ex, 'E_RATE_LIMITED', `rate or concurrency limit: ${said}`, 'refused', {
      ...detail,
      limit: limitOf(c, message),
    });
  throw apiError(ex, 'E_PROVIDER', `the provider refused: ${said}`, 'refused', detail);
}
