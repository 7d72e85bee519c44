import { ApiError, type ApiErrorCode, type EndpointName, isTransient } from './errors.js';
import { redactError, redactText } from './redact.js';
import type { CallClass } from './types.js';

/**
 * One logical call (all its attempts): what the errors and the attempt hooks say about it. Created once per
 * call; `status` is overwritten by each attempt that got a response.
 */
export class Exchange {
  status: number | undefined = undefined;

  constructor(
    readonly endpoint: EndpointName,
    readonly callClass: CallClass,
    readonly method: 'GET' | 'POST',
    /** Shown in errors and logs: never a query string. */
    readonly path: string,
    readonly secrets: readonly string[],
  ) {}
}

/**
 * Where a failed request got to. For a submit this decides `maybeCreated`, and with it whether the task can be
 * paid for twice, so the rule is "prove it was not created, or assume it was":
 *
 * - `not-sent`: no byte of the request can have reached the provider: connection refused, DNS failure, connect
 *   timeout (the TCP/TLS handshake never finished), an abort before dispatch, a local check.
 * - `refused`: the provider answered, and the answer itself says nothing was done: 4xx (auth, validation,
 *   moderation), 429, a `code != 0` envelope, and 503 — the one 5xx that means "shed before processing".
 * - `maybe`: everything else. A reset or a timeout after the request was written may come after the provider
 *   committed the task; a 500/502/504 may come from a gateway whose upstream did; an unreadable 200 almost
 *   certainly means it was created. This includes a request written onto a keep-alive socket the server was
 *   closing at that moment: undici cannot tell us whether the server read it, so it stays ambiguous (rare with
 *   the keep-alive timeout kept under the server's hint). The caller gets the error with `maybeCreated: true`
 *   and decides (the runner journals the task as unknown; `--resubmit-unknown` re-sends it knowingly).
 *
 * GET calls have no such stakes, and uploads only leave an extra file, so for them the distinction only feeds
 * the message; `retryable` follows the code.
 */
export type Delivery = 'not-sent' | 'refused' | 'maybe';

export interface FailureDetail {
  status?: number;
  body?: string;
  providerCode?: number | string;
  providerMessage?: string;
  retryAfterMs?: number;
  limit?: 'rate' | 'concurrency';
  cause?: unknown;
  /** Overrides the verdict by code, e.g. a disk error during a download is not worth another attempt. */
  retryable?: boolean;
}

/**
 * The one place an `ApiError` is built for a call. `retryable` means "sending this same call again is safe
 * and may succeed": a submit that may have created a task is therefore never retryable, whatever the code.
 * `E_URL_EXPIRED` is retryable with a fresh URL (the download layer itself does not retry it).
 */
export function apiError(
  ex: Exchange,
  code: ApiErrorCode,
  what: string,
  delivery: Delivery,
  detail: FailureDetail = {},
): ApiError {
  const maybeCreated = ex.endpoint === 'submit' ? delivery === 'maybe' : undefined;
  const retryable =
    detail.retryable ?? (code === 'E_URL_EXPIRED' || (isTransient(code) && maybeCreated !== true));
  let message = `${ex.endpoint} (${ex.method} ${ex.path}): ${what}`;
  if (maybeCreated) message += '; the task may have been created, so the request was not re-sent';
  const secrets = ex.secrets;
  return new ApiError(
    code,
    redactText(message, secrets),
    {
      endpoint: ex.endpoint,
      method: ex.method,
      path: ex.path,
      status: detail.status,
      providerCode: detail.providerCode,
      providerMessage:
        detail.providerMessage === undefined ? undefined : redactText(detail.providerMessage, secrets),
      body: detail.body === undefined ? undefined : redactText(detail.body, secrets),
      retryAfterMs: detail.retryAfterMs,
      limit: code === 'E_RATE_LIMITED' ? (detail.limit ?? 'rate') : undefined,
      maybeCreated,
    },
    { retryable, cause: detail.cause === undefined ? undefined : redactError(detail.cause, secrets) },
  );
}
