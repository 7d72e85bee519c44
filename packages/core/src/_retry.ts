import { setTimeout as sleep } from 'node:timers/promises';
import { apiError, type Exchange } from './_exchange.js';
import { ApiError, isStruggling, isTransient } from './errors.js';
import type { RetryOptions } from './options.js';
import type { AttemptEvent, CallGate, CallOptions, CallOutcome, Logger } from './types.js';

/**
 * The retry policy, wrapped around any single-attempt function (undici interceptor style): the attempt knows
 * nothing about retries, and this layer knows nothing about HTTP beyond what an `ApiError` says.
 *
 * Per attempt: wait for the gate, `beforeSend`, run, settle the gate, decide, report (`onAttempt`, debug log),
 * back off. `waitSignal` cuts the waits (gate, backoff) short, never a request on the wire.
 * Whether an error may be retried is the error's own `retryable` verdict, fixed where it was built
 * (`_exchange.ts`): for a submit that verdict already excludes every failure after which the task may exist,
 * so this loop cannot re-send an ambiguous submit however it is configured. What this layer adds: the
 * attempt budget, full-jitter backoff, `Retry-After` as a floor, and handing a `Retry-After` beyond
 * `maxRetryAfterMs` back to the caller instead of sleeping on it.
 */

export interface RetryHooks {
  gate?: CallGate;
  onAttempt?: (event: AttemptEvent) => void;
  logger?: Logger;
  /** A [0, 1) source for the jitter. @default Math.random */
  random?: () => number;
}

/** Full jitter: uniform in [0, min(maxDelayMs, baseDelayMs × 2^(attempt-1))]. */
export function backoffDelayMs(
  attempt: number,
  policy: Readonly<RetryOptions>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

const OK_OUTCOMES = new Map<number, CallOutcome>();

function okOutcome(status: number): CallOutcome {
  let outcome = OK_OUTCOMES.get(status);
  if (!outcome) {
    outcome = Object.freeze({ status, rateLimited: false });
    OK_OUTCOMES.set(status, outcome);
  }
  return outcome;
}

function abortedBeforeSend(ex: Exchange, cause?: unknown): ApiError {
  return apiError(ex, 'E_ABORTED', 'aborted by the caller before the request was sent', 'not-sent', {
    cause,
  });
}

function report(
  ex: Exchange,
  hooks: RetryHooks,
  attempt: number,
  startedMs: number,
  error: ApiError | undefined,
  delayMs: number | undefined,
): void {
  const { onAttempt, logger } = hooks;
  const debug = logger !== undefined && (logger.isLevelEnabled?.('debug') ?? true);
  if (!onAttempt && !debug) return;
  const event: AttemptEvent = {
    endpoint: ex.endpoint,
    callClass: ex.callClass,
    attempt,
    status: ex.status,
    code: error?.code,
    durationMs: Math.round((performance.now() - startedMs) * 10) / 10,
    willRetry: delayMs !== undefined,
    delayMs,
    retryAfterMs: error?.retryAfterMs,
  };
  // Observers must never change a call's outcome: a throwing hook after a successful submit would lose its taskId.
  try {
    if (onAttempt) onAttempt(event);
    if (debug)
      logger.debug(
        { ...event, method: ex.method, path: ex.path },
        error ? `${ex.endpoint} attempt failed` : `${ex.endpoint} ok`,
      );
  } catch {
    // Ignored on purpose (see above).
  }
}

function settle(gate: CallGate | undefined, ex: Exchange, outcome: CallOutcome): void {
  try {
    gate?.settle(ex.callClass, outcome);
  } catch {
    // Same reason as in `report`.
  }
}

export async function withRetry<T>(
  ex: Exchange,
  policy: Readonly<RetryOptions>,
  hooks: RetryHooks,
  signal: AbortSignal | undefined,
  run: (attempt: number) => Promise<T>,
  before: Pick<CallOptions, 'waitSignal' | 'beforeSend'> = {},
): Promise<T> {
  const gate = hooks.gate;
  const { beforeSend } = before;
  const waitSignal = before.waitSignal
    ? signal
      ? AbortSignal.any([signal, before.waitSignal])
      : before.waitSignal
    : signal;
  for (let attempt = 1; ; attempt++) {
    if (waitSignal?.aborted) throw abortedBeforeSend(ex);
    if (gate) {
      try {
        await gate.acquire(ex.callClass, waitSignal);
      } catch (error) {
        if (waitSignal?.aborted) throw abortedBeforeSend(ex, error);
        throw error;
      }
    }
    // Aborted while waiting: say so before undici would report it as an in-flight (maybe created) abort.
    // A granted slot is handed back: every acquire that resolves is settled exactly once.
    if (waitSignal?.aborted) {
      settle(gate, ex, { rateLimited: false });
      throw abortedBeforeSend(ex);
    }
    if (beforeSend) {
      let send: boolean | undefined;
      try {
        send = await beforeSend();
      } catch (error) {
        settle(gate, ex, { rateLimited: false });
        throw error;
      }
      if (send === false || signal?.aborted) {
        settle(gate, ex, { rateLimited: false });
        throw abortedBeforeSend(ex);
      }
    }
    const startedMs = performance.now();
    let failure: unknown;
    try {
      const value = await run(attempt);
      settle(gate, ex, okOutcome(ex.status ?? 200));
      report(ex, hooks, attempt, startedMs, undefined, undefined);
      return value;
    } catch (error) {
      failure = error;
    }
    const api = failure instanceof ApiError ? failure : undefined;
    const retryAfterMs = api?.retryAfterMs;
    settle(gate, ex, {
      status: ex.status,
      rateLimited: api?.code === 'E_RATE_LIMITED',
      retryAfterMs,
      limit: api?.limit,
      // An outage is the breaker's business; a 429 is paced by its own pause.
      outage: api !== undefined && api.code !== 'E_RATE_LIMITED' && isStruggling(api.code),
    });
    let delayMs: number | undefined;
    // A submit refused because too many tasks run needs one of them to finish, which only the caller sees
    // (and can wait for): hand it back at once rather than knocking again on a timer.
    const waitForCapacity = api?.limit === 'concurrency' && ex.endpoint === 'submit';
    if (
      api?.retryable &&
      !waitForCapacity &&
      isTransient(api.code) &&
      attempt < policy.attempts &&
      (retryAfterMs === undefined || retryAfterMs <= policy.maxRetryAfterMs) &&
      !signal?.aborted
    ) {
      delayMs = Math.max(backoffDelayMs(attempt, policy, hooks.random), retryAfterMs ?? 0);
    }
    if (api) api.attempts = attempt;
    report(ex, hooks, attempt, startedMs, api, delayMs);
    if (delayMs === undefined) throw failure;
    try {
      await sleep(delayMs, undefined, { signal: waitSignal });
    } catch (error) {
      throw abortedBeforeSend(ex, error);
    }
  }
}
