import { authenticate } from './_auth.js';
import { CODE } from './_codes.js';
import { type Exchange, resetConnection, sendJson, sendText } from './_respond.js';
import { retryAfter } from './_retry-after.js';
import type { SimState } from './_state.js';
import { providerTimestamp } from './_timestamp.js';
import type { Endpoint, FaultRule, RetryAfterFormat } from './types.js';

export type Handler = (sim: SimState, ex: Exchange) => void | Promise<void>;

const GATEWAY_PAGE = (status: number, text: string) =>
  `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
const STATUS_TEXT: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/**
 * Run a provider endpoint: decide its faults first (as a gateway in front of the provider would), wait out any
 * `slow` delay, answer a fault that ends the request before processing, or hand the request to the handler
 * with an after-processing fault pending.
 */
export function runEndpoint(sim: SimState, ex: Exchange, endpoint: Endpoint, handler: Handler): void {
  const { delayMs, fault } = sim.faults.decide(endpoint);
  const go = () => {
    if (ex.req.socket.destroyed) return;
    if (fault && answerFault(sim, ex, fault)) return;
    ex.after = fault;
    try {
      const pending = handler(sim, ex);
      if (pending) pending.catch((error: unknown) => internalError(sim, ex, error));
    } catch (error) {
      internalError(sim, ex, error);
    }
  };
  if (delayMs <= 0) {
    go();
    return;
  }
  const timer = setTimeout(() => {
    sim.timers.delete(timer);
    go();
  }, delayMs);
  sim.timers.add(timer);
}

/** Answer faults that stop a request before it is processed; false for the after-processing kinds. */
function answerFault(sim: SimState, ex: Exchange, fault: FaultRule): boolean {
  switch (fault.kind) {
    case 'reset-before':
      resetConnection(sim.ledger, ex);
      return true;
    case 'http-5xx': {
      const status = fault.status ?? 503;
      const text = STATUS_TEXT[status] ?? 'Error';
      // Gateways answer 502/504 with their own HTML page; the service itself answers 500/503 in JSON.
      if (status === 502 || status === 504)
        sendText(sim.ledger, ex, status, 'text/html', GATEWAY_PAGE(status, text));
      else
        sendJson(sim.ledger, ex, status, { code: status, message: text, ts: providerTimestamp(sim.now()) });
      return true;
    }
    case 'rate-limit':
      sendRateLimited(sim, ex, fault.retryAfterMs ?? 1000, fault.retryAfter ?? 'seconds', CODE.RATE_LIMITED);
      return true;
    case 'non-json':
      sendText(sim.ledger, ex, 200, 'text/html; charset=utf-8', GATEWAY_PAGE(200, 'OK'));
      return true;
    case 'business-error':
      sendJson(sim.ledger, ex, 200, {
        code: fault.code ?? CODE.BUSY,
        message: fault.message ?? 'system busy, please try again later',
        ts: providerTimestamp(sim.now()),
      });
      return true;
    default:
      return false;
  }
}

export function sendRateLimited(
  sim: SimState,
  ex: Exchange,
  waitMs: number,
  format: RetryAfterFormat,
  code: number,
  message = 'Too Many Requests: rate limit exceeded, retry later',
): void {
  const ra = retryAfter(format, waitMs, sim.now());
  const headers = ra.header === undefined ? {} : { 'retry-after': ra.header };
  sendJson(sim.ledger, ex, 429, { code, message, ts: providerTimestamp(sim.now()) }, headers, ra.announcedMs);
}

/** Authenticate, or answer 401 and return undefined. Sets `ex.key` on success. */
export function requireKey(sim: SimState, ex: Exchange): string | undefined {
  const auth = authenticate(ex.req, sim.opts.key);
  if (auth.ok) {
    ex.key = auth.fingerprint;
    return auth.fingerprint;
  }
  sendJson(sim.ledger, ex, 401, { code: CODE.UNAUTHORIZED, message: `Unauthorized: ${auth.message}` });
  return undefined;
}

/** A provider-style business answer: HTTP 200 (or `status`) with `code` != 0. */
export function sendBusinessError(
  sim: SimState,
  ex: Exchange,
  code: number,
  message: string,
  status = 200,
): void {
  sendJson(sim.ledger, ex, status, { code, message, ts: providerTimestamp(sim.now()) });
}

export function sendOk(sim: SimState, ex: Exchange, message: string, data: unknown): void {
  sendJson(sim.ledger, ex, 200, { code: CODE.OK, message, data, ts: providerTimestamp(sim.now()) });
}

function internalError(sim: SimState, ex: Exchange, error: unknown): void {
  if (ex.done) return;
  const detail = error instanceof Error ? error.message : String(error);
  sendJson(sim.ledger, ex, 500, { code: 500, message: `simulator internal error: ${detail}` });
}
