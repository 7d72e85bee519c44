import type { SessionSpan } from '../state/run-state.js';

/**
 * Time as the pipeline may learn from it. Poll delays, task-duration estimates, rate and cap learning, the ETA
 * and the stalled timeout all measure durations; none of them may count time when no session was running — a
 * laptop closed overnight, a run killed and resumed the next day — or a resumed run learns that every task takes
 * a night.
 *
 * - Inside a session, durations come from the monotonic clock (`performance.now()`, CLOCK_MONOTONIC), which does
 *   not advance while the machine sleeps. The wall clock does: `checkSuspend` compares the two and reports a
 *   sleep, which the session journals (a `heartbeat` with `suspendedMs`) and the pipeline treats as a resume.
 * - Across sessions, the journal's wall-clock times are mapped through the sessions' spans (`SessionSpan`):
 *   only time inside an earlier session's span, less what it slept, counts.
 */
export interface RunClockOptions {
  /** Earlier sessions' spans (the run state's `sessionSpans`). */
  spans: ReadonlyMap<number, SessionSpan>;
  /** This session's number: its own span is measured by the monotonic clock instead. */
  session: number;
  /** A sleep is reported when the wall clock gains more than this on the monotonic one. @default 5000 */
  suspendThresholdMs?: number;
  /** Monotonic ms. @default performance.now */
  mono?: () => number;
  /** Wall-clock epoch ms. @default Date.now */
  wall?: () => number;
}

export class RunClock {
  private readonly spans: ReadonlyMap<number, SessionSpan>;
  private readonly session: number;
  private readonly mono: () => number;
  private readonly wall: () => number;
  private readonly thresholdMs: number;
  private readonly startMono: number;
  private readonly startWall: number;
  /** Wall minus monotonic at the last check: grows by exactly the time slept. */
  private offset: number;

  constructor(o: RunClockOptions) {
    this.spans = o.spans;
    this.session = o.session;
    this.mono = o.mono ?? (() => performance.now());
    this.wall = o.wall ?? Date.now;
    this.thresholdMs = o.suspendThresholdMs ?? 5000;
    this.startMono = this.mono();
    this.startWall = this.wall();
    this.offset = this.startWall - this.startMono;
  }

  /** Monotonic milliseconds, for every duration measured inside this session. */
  now(): number {
    return this.mono();
  }

  /** Milliseconds this session has been running (its sleeps excluded). */
  sessionMs(): number {
    return this.mono() - this.startMono;
  }

  /**
   * Session time since a wall-clock instant recorded in the journal (ISO 8601), in ms: the parts of earlier
   * sessions' spans after it, less their sleeps, plus this session's running time. An instant inside this
   * session counts from itself. Unparsable → 0.
   */
  activeSince(atIso: string): number {
    const from = Date.parse(atIso);
    if (Number.isNaN(from)) return 0;
    if (from >= this.startWall) return Math.max(0, Math.min(this.sessionMs(), this.wall() - from));
    let total = 0;
    for (const [n, span] of this.spans) {
      if (n === this.session) continue;
      const start = Math.max(Date.parse(span.start), from);
      const end = Date.parse(span.end);
      if (!(end > start)) continue;
      let slept = 0;
      for (const [at, ms] of Object.entries(span.suspended ?? {})) if (Date.parse(at) > start) slept += ms;
      total += Math.max(0, end - start - slept);
    }
    return total + this.sessionMs();
  }

  /** The monotonic time that lies `activeSince(atIso)` before now: a task's start on this session's clock. */
  monoAt(atIso: string): number {
    return this.now() - this.activeSince(atIso);
  }

  /**
   * Milliseconds the machine slept since the last call (0 when it did not, below the threshold). Call it every
   * few seconds: a sleep shows as the wall clock gaining on the monotonic one.
   */
  checkSuspend(): number {
    const offset = this.wall() - this.mono();
    const gained = offset - this.offset;
    // Small drift (NTP slewing) accumulates without being reported; a step back is taken as the new base.
    if (gained > this.thresholdMs || gained < 0) this.offset = offset;
    return gained > this.thresholdMs ? gained : 0;
  }
}
