import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { LedgerRecorder } from './_ledger.js';
import type { FaultRule } from './types.js';

/** One request in flight: what the ledger needs about it, and any fault due after processing. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** Ledger name of the endpoint (`submit`, `files`, …). */
  endpoint: string;
  /** Arrival time, epoch ms. */
  at: number;
  /** Key fingerprint once authenticated. */
  key: string | null;
  /** `reset-after`, `truncated` or `missing-fields`: applied to whatever response the handler produces. */
  after: FaultRule | undefined;
  /** Whether to keep this request in the ledger's request log. */
  logged: boolean;
  done: boolean;
}

function record(
  ledger: LedgerRecorder,
  ex: Exchange,
  status: number,
  retryAfterMs: number | undefined,
): void {
  ex.done = true;
  if (status === 429) ledger.rateLimitSent(ex.endpoint);
  if (!ex.logged) return;
  const entry = { at: ex.at, endpoint: ex.endpoint, status, key: ex.key };
  ledger.request(retryAfterMs === undefined ? entry : { ...entry, retryAfterMs });
}

/** Drop the connection without a response (a reset, as the client sees it). */
export function resetConnection(ledger: LedgerRecorder, ex: Exchange): void {
  if (ex.done) return;
  record(ledger, ex, 0, undefined);
  ex.req.socket.destroy();
}

export interface JsonBody {
  code?: number;
  message?: string;
  data?: unknown;
  [k: string]: unknown;
}

/** Send JSON, applying a pending after-processing fault (reset, truncation, missing fields). */
export function sendJson(
  ledger: LedgerRecorder,
  ex: Exchange,
  status: number,
  body: JsonBody,
  headers: OutgoingHttpHeaders = {},
  retryAfterMs?: number,
): void {
  if (ex.done) return;
  const after = ex.after?.kind;
  if (after === 'reset-after') {
    resetConnection(ledger, ex);
    return;
  }
  let payload = body;
  if (after === 'missing-fields' && body.code === 0 && body.data !== undefined) {
    payload = { ...body, data: Array.isArray(body.data) ? [{}] : {} };
  }
  let text = JSON.stringify(payload);
  if (after === 'truncated') text = text.slice(0, Math.floor(text.length / 2));
  record(ledger, ex, status, retryAfterMs);
  ex.res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  ex.res.end(text);
}

/** Send a non-JSON body as is (gateway pages, files). No after-processing faults apply. */
export function sendText(
  ledger: LedgerRecorder,
  ex: Exchange,
  status: number,
  contentType: string,
  text: string,
): void {
  if (ex.done) return;
  record(ledger, ex, status, undefined);
  ex.res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  ex.res.end(text);
}

/**
 * Send bytes (a video or an uploaded image), or only the headers for HEAD. A pending `truncated` fault sends
 * the full `Content-Length`, half the bytes, then drops the connection; `reset-after` drops it at once.
 */
export function sendBytes(
  ledger: LedgerRecorder,
  ex: Exchange,
  status: 200 | 206,
  headers: OutgoingHttpHeaders,
  body: Buffer,
): void {
  if (ex.done) return;
  const after = ex.after?.kind;
  if (after === 'reset-after') {
    resetConnection(ledger, ex);
    return;
  }
  record(ledger, ex, status, undefined);
  ex.res.writeHead(status, { ...headers, 'content-length': body.length });
  if (ex.req.method === 'HEAD') {
    ex.res.end();
    return;
  }
  if (after === 'truncated') {
    ex.res.write(body.subarray(0, Math.floor(body.length / 2)), () => ex.req.socket.destroy());
    return;
  }
  ex.res.end(body);
}
