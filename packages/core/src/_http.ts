import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { apiError, type Delivery, type Exchange } from './_exchange.js';
import type { ApiError } from './errors.js';
import type { TimeoutOptions } from './options.js';

/**
 * One HTTP attempt and nothing else: send, read the whole body, and turn transport failures into `ApiError`s
 * that say how far the request got. Status codes and bodies are judged by `_classify.ts`; retries by
 * `_retry.ts`.
 */

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Failures that happen before a single byte of the request can have reached the server. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errors?: { code?: unknown }[] } | null;
  const code = e?.code ?? e?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError' || errorCode(error) === 'UND_ERR_ABORTED';
}

/** A transport failure (the request was already handed to the dispatcher) as an ApiError. */
export function transportError(ex: Exchange, error: unknown, signal: AbortSignal | undefined): ApiError {
  if (isAbort(error, signal))
    return apiError(ex, 'E_ABORTED', 'aborted by the caller', 'maybe', { cause: error });
  const code = errorCode(error) ?? 'unknown';
  const text = error instanceof Error ? error.message : String(error);
  const status = ex.status;
  if (NOT_SENT.has(code)) {
    const timeout = code === 'UND_ERR_CONNECT_TIMEOUT';
    return apiError(
      ex,
      timeout ? 'E_TIMEOUT' : 'E_NETWORK',
      timeout ? 'connect timeout' : `cannot connect (${code})`,
      'not-sent',
      {
        cause: error,
      },
    );
  }
  if (/CERT|^ERR_TLS_|^ERR_SSL_/.test(code)) {
    return apiError(ex, 'E_CONFIG', `TLS handshake failed (${code}): check the base URL`, 'not-sent', {
      cause: error,
    });
  }
  const delivery: Delivery = 'maybe';
  if (code === 'UND_ERR_HEADERS_TIMEOUT')
    return apiError(ex, 'E_TIMEOUT', 'no response headers in time', delivery, { cause: error });
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return apiError(ex, 'E_TIMEOUT', `response body stalled (HTTP ${status})`, delivery, {
      status,
      cause: error,
    });
  }
  const where = status === undefined ? 'before a response' : `while reading the HTTP ${status} body`;
  return apiError(ex, 'E_NETWORK', `connection failed ${where} (${code}: ${text})`, delivery, {
    status,
    cause: error,
  });
}

/**
 * Send one request and read its body as text. A body that breaks off after a non-2xx status is dropped (the
 * status alone decides); after a 2xx it is an error that keeps what arrived, since a 2xx answer we cannot
 * read is ambiguous (for a submit: the task may exist).
 */
export async function sendOnce(
  dispatcher: Dispatcher,
  ex: Exchange,
  origin: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  timeouts: Readonly<TimeoutOptions>,
  signal: AbortSignal | undefined,
): Promise<HttpResponse> {
  ex.status = undefined;
  let res: Dispatcher.ResponseData;
  try {
    res = await dispatcher.request({
      origin,
      path,
      method: ex.method,
      headers,
      body,
      signal,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
  } catch (error) {
    throw transportError(ex, error, signal);
  }
  const status = res.statusCode;
  ex.status = status;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
  } catch (error) {
    if (status < 200 || status > 299) {
      if (isAbort(error, signal)) throw transportError(ex, error, signal);
      return { status, headers: res.headers, text: '' };
    }
    const code = errorCode(error);
    if (chunks.length === 0 || isAbort(error, signal) || code === 'UND_ERR_BODY_TIMEOUT')
      throw transportError(ex, error, signal);
    const partial = Buffer.concat(chunks).toString('utf8');
    throw apiError(
      ex,
      'E_BAD_RESPONSE',
      `HTTP ${status} body broke off after ${Buffer.byteLength(partial)} bytes (${code})`,
      'maybe',
      {
        status,
        body: partial,
        cause: error,
      },
    );
  }
  const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
  return { status, headers: res.headers, text };
}
