import type { Runner } from './runner.js';

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
}

export interface ProgressCounts {
  total: number;
  succeeded: number;
  failed: number;
  unknown: number;
  running: number;
  downloading: number;
  waiting: number;
  parked: number;
}

export function countsOf(runner: Runner): ProgressCounts {
  const { phases, live } = runner.snapshot();
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  const succeeded = phases.succeeded ?? 0;
  const failed = phases.failed ?? 0;
  const unknown = phases.unknown ?? 0;
  const running = (phases.submitted ?? 0) - (live.stalled ?? 0);
  const downloading = phases.completed ?? 0;
  const parked = (live.budget ?? 0) + (live.stalled ?? 0);
  return {
    total,
    succeeded,
    failed,
    unknown,
    running,
    downloading,
    parked,
    waiting: Math.max(0, total - succeeded - failed - unknown - running - downloading - parked),
  };
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private timer?: NodeJS.Timeout;
  private readonly samples: { at: number; done: number }[] = [];
  private lastLineAt = 0;
  private drawn = false;

  constructor(
    private readonly runner: Runner,
    private readonly o: ProgressOptions,
  ) {}

  start(): void {
    const every = this.o.tty ? (this.o.redrawEveryMs ?? 250) : 1000;
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
  }

  /**
   * Tasks finished per second over the last minute of this session (monotonic: a sleep is not a slow minute).
   * Resumed tasks that had finished while no session ran are left out: they were not this session's pace.
   */
  private rate(c: ProgressCounts, now: number): number {
    const done = c.succeeded + c.failed + c.unknown - this.runner.settledWhileAway;
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
    const now = performance.now();
    const c = countsOf(this.runner);
    const rate = this.rate(c, now);
    if (this.o.tty) {
      const width = 24;
      const filled = c.total ? Math.round((width * (c.succeeded + c.failed + c.unknown)) / c.total) : 0;
      const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
      this.o.stream.write(`\r\x1b[2K${bar} ${this.line(c, rate)}`);
      this.drawn = true;
    } else if (now - this.lastLineAt >= (this.o.lineEveryMs ?? 5000)) {
      this.lastLineAt = now;
      this.o.stream.write(`flf2v: ${this.line(c, rate)}\n`);
    }
  }

  /** Stop redrawing and leave the terminal on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.drawn) this.o.stream.write('\r\x1b[2K');
  }
}
