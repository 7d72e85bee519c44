import { Semaphore } from '../semaphore.js';
import type { InFlightSlots, Logger, TaskRun } from './context.js';

/** With no --max-in-flight, how often a learned cap is raised by one to find capacity that freed up. */
export const CAP_PROBE_MS = 20_000;
/** Concurrency refusals this close together are one event: the cap is lowered once. */
const REFUSAL_BURST_MS = 1_000;

/**
 * Tasks running at the provider, and the cap on them. With --max-in-flight the cap is the user's. Without it,
 * there is none until the provider refuses a submit because too many of the key's tasks run (a `concurrency`
 * 429): the cap is then learned as the number known to run at that moment (at least one below the cap before),
 * and raised by one after every quiet `CAP_PROBE_MS`. A slot is taken before a submit and given back when the
 * provider no longer runs the task (see `TaskRun.holdsSlot`).
 */
export class InFlight implements InFlightSlots {
  private readonly slots: Semaphore;
  private learned = false;
  /** Tasks known to run at the provider right now (a resumed task counts once a poll says it still runs). */
  private atProvider = 0;
  private lastRefusalAt = Number.NEGATIVE_INFINITY;
  private lastRaiseAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly maxInFlight: number | undefined,
    /** Monotonic ms (the session clock). */
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {
    this.slots = new Semaphore(maxInFlight ?? Number.POSITIVE_INFINITY);
  }

  /** Wait for a slot; false when `signal` aborts first. */
  async acquire(run: TaskRun, signal: AbortSignal): Promise<boolean> {
    try {
      await this.slots.acquire(signal);
    } catch {
      return false;
    }
    run.holdsSlot = true;
    return true;
  }

  /** A task already at the provider (resumed) holds a slot, even past the cap, until it is done. */
  force(run: TaskRun): void {
    this.slots.force();
    run.holdsSlot = true;
  }

  release(run: TaskRun): void {
    if (!run.holdsSlot) return;
    run.holdsSlot = false;
    this.slots.release();
    this.probe();
  }

  /** Tasks waiting for a slot: a completion would let one in (polls are then urgent). */
  get waiting(): number {
    return this.slots.waiting;
  }

  /** Slots taken before a cap was learned outnumber it: a submit about to go should queue again. */
  get overCap(): boolean {
    return this.slots.inUse > this.slots.limit;
  }

  /** A task started (+1) or stopped (-1) being known to run at the provider. */
  running(delta: 1 | -1): void {
    this.atProvider += delta;
  }

  /** The provider refused a submit because too many tasks run: cap at what runs now. */
  learnCap(): void {
    if (this.maxInFlight) return;
    const now = this.now();
    if (now - this.lastRefusalAt < REFUSAL_BURST_MS) return;
    this.lastRefusalAt = now;
    // What this session counts can include tasks the provider already finished (not yet noticed), so the
    // provider's count may be lower: a refusal always takes the cap at least one below the current one.
    const limit = this.slots.limit;
    const next = Math.max(
      1,
      Math.min(this.atProvider, limit === Number.POSITIVE_INFINITY ? this.atProvider : limit - 1),
    );
    if (next < limit) {
      this.slots.setLimit(next);
      this.learned = true;
      this.logger.info({ maxInFlight: next }, 'the provider caps running tasks; learned the cap');
    }
  }

  private probe(): void {
    if (!this.learned) return;
    const now = this.now();
    if (now - this.lastRefusalAt > CAP_PROBE_MS && now - this.lastRaiseAt > CAP_PROBE_MS) {
      this.lastRaiseAt = now;
      this.slots.setLimit(this.slots.limit + 1);
    }
  }
}
