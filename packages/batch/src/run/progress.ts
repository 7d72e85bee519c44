import type { RunState } from '../state/run-state.js';
import { formatDuration } from '../util/format.js';
import type { LiveView, ProgressCounts } from './live-view.js';

/**
 * Progress on stderr: on a terminal a bar redrawn in place (counts by state, rate, ETA); elsewhere (CI, cron,
 * a log file) one plain line every `lineEveryMs`. Rate is tasks finished per second over the last minute.
 */

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  tty: boolean;
  /** @default 5000 */
  lineEveryMs?: number;
  /** @default 250 */
  redrawEveryMs?: number;
  /** Monotonic ms (a sleep of the machine is not a slow minute). @default performance.now */
  now?: () => number;
}

export class Progress {
  private timer?: NodeJS.Timeout;
  private readonly samples: { at: number; done: number }[] = [];
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly now: () => number;

  constructor(
    private readonly view: LiveView,
    private readonly state: RunState,
    private readonly o: ProgressOptions,
  ) {
    this.now = o.now ?? (() => performance.now());
  }

  start(): void {
    const every = this.o.tty ? (this.o.redrawEveryMs ?? 250) : 1000;
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
  }

  /**
   * Tasks finished per second over the last minute of this session. Resumed tasks that had finished while no
   * session ran are left out: they were not this session's pace.
   */
  rate(c: ProgressCounts): number {
    const now = this.now();
    const done = c.succeeded + c.failed + c.unknown - this.view.settledWhileAway;
    this.samples.push({ at: now, done });
    while (this.samples.length > 2 && now - this.samples[0]!.at > 60_000) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (done - first.done) / seconds : 0;
  }

  line(c: ProgressCounts, rate: number): string {
    const done = c.succeeded + c.failed + c.unknown;
    const left = c.total - done - c.parked;
    const eta = rate > 0 ? formatDuration((left / rate) * 1000) : '?';
    const parts = [`${c.succeeded}/${c.total} done`];
    if (c.failed) parts.push(`${c.failed} failed`);
    if (c.unknown) parts.push(`${c.unknown} unknown`);
    parts.push(`${c.running} running`, `${c.downloading} downloading`, `${c.waiting} waiting`);
    if (c.parked) parts.push(`${c.parked} parked`);
    return `${parts.join(' · ')} · ${rate.toFixed(rate < 10 ? 2 : 0)} tasks/s · ETA ${left > 0 ? eta : '0s'}`;
  }

  private tick(): void {
    const c = this.view.counts(this.state);
    const rate = this.rate(c);
    if (this.o.tty) {
      const width = 24;
      const filled = c.total ? Math.round((width * (c.succeeded + c.failed + c.unknown)) / c.total) : 0;
      const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
      this.o.stream.write(`\r\x1b[2K${bar} ${this.line(c, rate)}`);
      this.drawn = true;
    } else if (this.now() - this.lastLineAt >= (this.o.lineEveryMs ?? 5000)) {
      this.lastLineAt = this.now();
      this.o.stream.write(`flf2v: ${this.line(c, rate)}\n`);
    }
  }

  /** Stop redrawing and leave the terminal on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.drawn) this.o.stream.write('\r\x1b[2K');
  }
}
