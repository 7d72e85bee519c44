import { setTimeout as sleep } from 'node:timers/promises';
import { TOOL_VERSION } from '../version.js';

/**
 * POST a JSON document to a webhook, retrying transient failures (network errors, timeouts, 408, 429, 5xx)
 * with exponential backoff and jitter, honouring a short `Retry-After`. Never throws: a webhook that fails
 * must not fail the run it reports on — the caller logs the result.
 */

export interface WebhookOptions {
  /** Attempts in all, the first included. @default 4 */
  attempts?: number;
  /** Delay before the first retry; doubles with each one (jittered). @default 1000 */
  retryBaseMs?: number;
  /** Longest wait between attempts, `Retry-After` included. @default 30_000 */
  retryMaxMs?: number;
  /** Per attempt. @default 10_000 */
  timeoutMs?: number;
  /** Aborting stops retrying; the attempt in progress still gets its timeout (a shutdown still notifies). */
  signal?: AbortSignal;
  /** Called after each failed attempt that will be retried. */
  onRetry?: (info: { attempt: number; status?: number; error?: string; delayMs: number }) => void;
}

export interface WebhookResult {
  delivered: boolean;
  attempts: number;
  /** The last HTTP status received. */
  status?: number;
  /** Why the last attempt failed. */
  error?: string;
}

export const DEFAULT_WEBHOOK_OPTIONS = {
  attempts: 4,
  retryBaseMs: 1000,
  retryMaxMs: 30_000,
  timeoutMs: 10_000,
} as const;

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Where a webhook goes, safe to log: the origin only (chat webhooks carry their secret in the path). */
export function webhookTarget(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export async function postWebhook(
  url: string,
  body: string,
  options: WebhookOptions = {},
): Promise<WebhookResult> {
  const o = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
  const result: WebhookResult = { delivered: false, attempts: 0 };
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    result.attempts = attempt;
    let wait: number | undefined;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': `flf2v/${TOOL_VERSION}` },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      result.status = res.status;
      if (res.status >= 200 && res.status < 300) {
        result.delivered = true;
        result.error = undefined;
        return result;
      }
      result.error = `HTTP ${res.status}`;
      if (!RETRYABLE_STATUS.has(res.status)) return result;
      wait = retryAfterMs(res.headers.get('retry-after'));
    } catch (error) {
      result.status = undefined;
      result.error = describe(error);
    }
    if (attempt === o.attempts || o.signal?.aborted) return result;
    const backoff = Math.random() * o.retryBaseMs * 2 ** (attempt - 1) + o.retryBaseMs / 2;
    const delayMs = Math.min(o.retryMaxMs, Math.max(backoff, wait ?? 0));
    o.onRetry?.({ attempt, status: result.status, error: result.error, delayMs });
    try {
      await sleep(delayMs, undefined, { signal: o.signal });
    } catch {
      return result;
    }
  }
  return result;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
