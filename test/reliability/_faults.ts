import { ENDPOINTS, type Endpoint, type FaultKind, type FaultRule, type Ledger } from '@flf2v/simulator';
import { CALL_CLASS, providerRequests } from './_support.js';

/** Fault mixes for the simulator and what the ledger says about how the client met them. */

/** A wait long enough that an early request stands out from one that was already on the wire. */
const RETRY_AFTER_MS = 1_500;
/**
 * Requests of the class that were already in flight when the 429 came back arrive at the simulator just after
 * it, through no fault of the client's: allow them this long after the 429 (the simulator runs in this busy
 * test process). A client that ignored Retry-After would retry or keep polling within the announced wait,
 * which is 1.5–2.5 s here, far beyond this.
 */
const IN_FLIGHT_MS = 150;
/** Clock granularity between the simulator's and the client's clocks (same host). */
const CLOCK_MS = 5;

/**
 * Every kind of fault, together hitting a request with chance `p`. `exclude` leaves kinds off an endpoint
 * (while a known bug is open; see its test).
 */
export function chaosFaults(
  p: number,
  options: { exclude?: Partial<Record<Endpoint, FaultKind[]>> } = {},
): FaultRule[] {
  const kinds: Omit<FaultRule, 'probability'>[] = [
    { kind: 'http-5xx', status: 500 },
    { kind: 'http-5xx', status: 502 },
    { kind: 'http-5xx', status: 503 },
    { kind: 'http-5xx', status: 504 },
    { kind: 'rate-limit', retryAfter: 'seconds', retryAfterMs: RETRY_AFTER_MS },
    { kind: 'rate-limit', retryAfter: 'http-date', retryAfterMs: RETRY_AFTER_MS },
    { kind: 'rate-limit', retryAfter: 'garbage', retryAfterMs: RETRY_AFTER_MS },
    { kind: 'reset-before' },
    { kind: 'reset-after' },
    { kind: 'truncated' },
    { kind: 'non-json' },
    { kind: 'missing-fields' },
  ];
  // Rules are tried in order, each with its own draw: this per-rule chance makes the total P.
  const each = 1 - (1 - p) ** (1 / kinds.length);
  return kinds.map((k) => {
    const endpoints = ENDPOINTS.filter((e) => !options.exclude?.[e]?.includes(k.kind));
    return { ...k, probability: each, endpoints } as FaultRule;
  });
}

export interface EarlyRequest {
  endpoint: string;
  /** ms after the 429 it followed. */
  afterMs: number;
  /** ms before the announced time. */
  earlyByMs: number;
  rateLimited: { endpoint: string; at: number; retryAfterMs: number };
}

/**
 * Every request that reached the simulator after a 429 with a parsable Retry-After on its call class (status
 * and result share one) and before the announced time — beyond the in-flight allowance and clock granularity.
 */
export function requestsBeforeRetryAfter(ledger: Ledger, inFlightMs = IN_FLIGHT_MS): EarlyRequest[] {
  const log = providerRequests(ledger);
  const early: EarlyRequest[] = [];
  for (const [i, e] of log.entries()) {
    if (e.status !== 429 || e.retryAfterMs === undefined) continue;
    const cls = CALL_CLASS[e.endpoint];
    const until = e.at + e.retryAfterMs;
    for (const x of log.slice(i + 1)) {
      if (x.at >= until - CLOCK_MS) break;
      if (CALL_CLASS[x.endpoint] !== cls || x.key !== e.key || x.at <= e.at + inFlightMs) continue;
      early.push({
        endpoint: x.endpoint,
        afterMs: x.at - e.at,
        earlyByMs: until - x.at,
        rateLimited: { endpoint: e.endpoint, at: e.at, retryAfterMs: e.retryAfterMs },
      });
    }
  }
  return early;
}

/** Submit answers after which the client cannot know whether the task exists. */
export function ambiguousSubmitAnswers(ledger: Ledger): number {
  const f = ledger.faults.byEndpoint;
  const byKind = ['reset-before', 'reset-after', 'truncated', 'missing-fields', 'non-json'].reduce(
    (n, k) => n + (f[`submit:${k}`] ?? 0),
    0,
  );
  const gateway5xx = providerRequests(ledger).filter(
    (r) => r.endpoint === 'submit' && (r.status === 500 || r.status === 502 || r.status === 504),
  ).length;
  return byKind + gateway5xx;
}
