import { emptyStats, type RequestStats } from '../state/records.js';

/** The fields of core's per-attempt event that the runner counts. */
export interface AttemptLike {
  endpoint: string;
  status?: number;
  code?: string;
  willRetry?: boolean;
}

/** Counts requests by endpoint, 429 answers and retries for this session, from the client's `onAttempt`. */
export class SessionStats {
  readonly counts: RequestStats = emptyStats();

  onAttempt = (event: AttemptLike): void => {
    const c = this.counts;
    switch (event.endpoint) {
      case 'upload':
      case 'submit':
      case 'status':
      case 'result':
      case 'download':
        c[event.endpoint]++;
    }
    if (event.status === 429 || event.code === 'E_RATE_LIMITED') c.rateLimited++;
    if (event.willRetry) c.retries++;
  };

  /** `base` (earlier sessions) plus this session. */
  total(base: RequestStats): RequestStats {
    const out = { ...base };
    for (const k of Object.keys(out) as (keyof RequestStats)[]) out[k] += this.counts[k];
    return out;
  }
}
