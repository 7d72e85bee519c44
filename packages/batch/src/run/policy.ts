import { isStruggling } from '@flf2v/core/rules';
import type { ErrorCode } from '../errors.js';

/**
 * The task policy: what the pipeline does with a task when a provider call fails, after the client's own
 * per-call retries (core's `DEFAULT_RETRY`) have given up. One table, used by every stage and by the webhook, so
 * the same error gets the same treatment wherever it happens. The rate limiter (`limiter.ts`) paces whole call
 * classes (429 pauses, the outage breaker); this decides for one task.
 *
 * | verdict      | codes                                                    | what happens to the task                      |
 * |--------------|----------------------------------------------------------|-----------------------------------------------|
 * | `fatal`      | E_AUTH E_CONFIG E_STATE E_LOCAL_IO E_JOURNAL_CORRUPT E_BACKEND | nothing: the whole run stops, every task kept |
 * | `stopped`    | E_ABORTED E_TASK_TAKEN                                   | nothing: the run is stopping (or another worker has the task) |
 * | `struggling` | E_RATE_LIMITED E_SERVER E_NETWORK E_TIMEOUT               | waits (backoff, `Retry-After` as a floor) and tries again; never fails the task |
 * | `broken`     | E_BAD_RESPONSE E_DOWNLOAD                                 | tries again; fails after `brokenInRow` in a row |
 * | `expired`    | E_URL_EXPIRED                                            | asks for fresh result URLs (never resubmits); fails after `urlRefreshes` |
 * | `refused`    | anything else (E_PROVIDER E_MODERATION E_INVALID_REQUEST E_INTERNAL …) | fails — at once before the provider has the task; after `confirmRefusals` in a row once it has it (a paid task is not given up on one odd answer) |
 *
 * A submit whose outcome is unknown (the task may exist) is not a verdict but the exactly-once discipline: the
 * task becomes `unknown` and is not re-sent without --resubmit-unknown (see `pipeline/submit.ts`).
 */
export type Verdict = 'fatal' | 'stopped' | 'struggling' | 'broken' | 'expired' | 'refused';

export const TASK_POLICY = Object.freeze({
  /** Backoff between a task's own retries: full jitter up to min(maxMs, baseMs × 2^n). */
  backoff: Object.freeze({ baseMs: 1000, maxMs: 60_000 }),
  /** Answers in a row that arrive broken before the task fails (per stage). */
  brokenInRow: 8,
  /** Refusals in a row about a task the provider has (poll, result, download) before it fails. */
  confirmRefusals: 3,
  /** Fresh result URLs asked for per task and session before its download fails. */
  urlRefreshes: 5,
  /** A download host that keeps struggling may have been replaced: ask for current URLs every n-th time. */
  refreshUrlsEvery: 6,
  /** Attempts of a webhook POST (struggling answers only; a refusal ends it at once). */
  webhookAttempts: 4,
  /** Stage visits per task and session: a safeguard against a loop that makes no progress (a bug). */
  stageVisits: 32,
});

const FATAL: ReadonlySet<string> = new Set<ErrorCode>([
  'E_AUTH',
  'E_CONFIG',
  'E_STATE',
  'E_LOCAL_IO',
  'E_JOURNAL_CORRUPT',
  'E_BACKEND',
]);

/** The verdict on an error code (see the table above). */
export function verdictOf(code: string): Verdict {
  if (FATAL.has(code)) return 'fatal';
  // Stopped, or (a worker) the task is another worker's now: leave it as it is.
  if (code === 'E_ABORTED' || code === 'E_TASK_TAKEN') return 'stopped';
  if (isStruggling(code)) return 'struggling';
  if (code === 'E_BAD_RESPONSE' || code === 'E_DOWNLOAD') return 'broken';
  if (code === 'E_URL_EXPIRED') return 'expired';
  return 'refused';
}

/**
 * A backoff after `attempt` earlier retries, in ms: uniform in [0, min(maxMs, baseMs × 2^attempt)], never below
 * `floorMs` (a `Retry-After`).
 */
export function backoffMs(attempt: number, floorMs = 0, random: () => number = Math.random): number {
  const { baseMs, maxMs } = TASK_POLICY.backoff;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.max(floorMs, random() * ceiling);
}

/**
 * The policy applied to one task's calls at one stage: counts failures of a kind in a row and says when the
 * task fails, and how long to wait before the next attempt. A success resets it.
 */
export class TaskRetries {
  private last?: Verdict;
  private inRow = 0;
  private attempts = 0;

  /**
   * @param providerHasTask the task exists at the provider (poll, result, download): a refusal is confirmed
   *   `confirmRefusals` times before it fails the task.
   */
  constructor(
    private readonly providerHasTask: boolean,
    /** The backoff's jitter source, [0, 1). */
    private readonly random: () => number = Math.random,
  ) {}

  /** Record a failure with this verdict; true when the task must fail now. */
  fails(verdict: Exclude<Verdict, 'fatal' | 'stopped'>): boolean {
    this.inRow = verdict === this.last ? this.inRow + 1 : 1;
    this.last = verdict;
    this.attempts++;
    switch (verdict) {
      case 'struggling':
        return false;
      case 'broken':
        return this.inRow >= TASK_POLICY.brokenInRow;
      case 'refused':
        return !this.providerHasTask || this.inRow >= TASK_POLICY.confirmRefusals;
      case 'expired':
        // A stage that can refresh URLs does so before asking; elsewhere an expired URL is a refusal.
        return !this.providerHasTask || this.inRow >= TASK_POLICY.confirmRefusals;
    }
  }

  /**
   * The wait before the next attempt, in ms: `backoffMs` of the failures so far (the first retry waits up to
   * `backoff.baseMs`), `floorMs` being a `Retry-After`.
   */
  delayMs(floorMs = 0): number {
    return backoffMs(this.attempts - 1, floorMs, this.random);
  }

  /** How many times in a row the last verdict came. */
  get streak(): number {
    return this.inRow;
  }

  succeeded(): void {
    this.last = undefined;
    this.inRow = 0;
    this.attempts = 0;
  }
}
