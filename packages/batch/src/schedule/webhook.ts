import { setTimeout as sleep } from 'node:timers/promises';
import { parseRetryAfter } from '@flf2v/core/rules';
import { backoffMs, TASK_POLICY, verdictOf } from '../run/policy.js';
import { TOOL_VERSION } from '../version.js';

/**
 * POST a JSON document to a webhook, under the task policy (`run/policy.ts`): an answer that says the receiver
 * is struggling (a network error, a timeout, 408, 425, 429, 5xx) is retried with its backoff, `Retry-After` as a
 * floor; any other refusal ends it at once. Never throws: a webhook that fails must not fail the run it reports
 * on — the caller logs the result.
 */

export interface WebhookOptions {
  /** Attempts in all, the first included. @default TASK_POLICY.webhookAttempts (4) */
  attempts?: number;
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
  attempts: TASK_POLICY.webhookAttempts,
  retryMaxMs: 30_000,
  timeoutMs: 10_000,
} as const;

/** What an HTTP answer from a webhook means, in the codes the task policy judges. */
function codeOfStatus(status: number): string {
  if (status === 429) return 'E_RATE_LIMITED';
  if (status === 408) return 'E_TIMEOUT';
  // 425 Too Early: the receiver asks to be tried again, like a 503.
  if (status >= 500 || status === 425) return 'E_SERVER';
  return 'E_INVALID_REQUEST';
}

/** Where a webhook goes, safe to log: the origin only (chat webhooks carry their secret in the path). */
export function webhookTarget(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
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
      if (verdictOf(codeOfStatus(res.status)) !== 'struggling') return result;
      wait = parseRetryAfter(res.headers.get('retry-after'));
    } catch (error) {
      result.status = undefined;
      result.error = describe(error);
    }
    if (attempt === o.attempts || o.signal?.aborted) return result;
    const delayMs = Math.min(o.retryMaxMs, backoffMs(attempt - 1, wait ?? 0));
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
