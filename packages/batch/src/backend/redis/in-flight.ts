import type { Redis } from 'ioredis';
import type { InFlightSlots, Logger, TaskRun } from '../../run/pipeline/context.js';
import { CAP_PROBE_MS } from '../../run/pipeline/in-flight.js';
import type { RedisKeys } from './keys.js';
import type { RedisScripts } from './scripts.js';
import { backendError } from './store.js';

/** A slot held by a worker that died frees itself after this long without renewal (ms). */
const LEASE_MS = 60_000;
/** How often a worker renews the leases of the slots it holds. */
const RENEW_MS = 15_000;
/** A waiting worker asks again this often even without a release notice (a notice can be missed). */
const RETRY_MS = 500;
/** Refusals this close together are one event: the cap is lowered once. */
const REFUSAL_BURST_MS = 1_000;

/**
 * The in-flight cap shared by every worker of one API key: tasks running at the provider, counted in Redis (one
 * sorted-set member per task, leased in Redis time), not jobs being processed. The same rules as the file
 * backend's `InFlight` — the user's cap, or one learned from the provider's refusals and probed upward — in Lua
 * scripts, so all workers together never hold more than the cap. A slot's member is the task (`runId.key`), so a
 * task taken over by another worker keeps its one slot.
 *
 * Waiting: within a process only the first waiter asks Redis; the others queue behind it. A release is announced on
 * a channel, and the head waiter also asks again every `RETRY_MS`.
 */
export class RedisInFlight implements InFlightSlots {
  private readonly held = new Map<TaskRun, string>();
  private readonly queue: (() => void)[] = [];
  private asking = false;
  private wake?: () => void;
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis & RedisScripts,
    /** A second connection for the release channel (a subscribed client can do nothing else). */
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    /** The key's cap (`--max-in-flight` / `limits:` of the latest enqueue), or undefined: learned from refusals. */
    private readonly maxInFlight: () => number | undefined,
    private readonly memberOf: (run: TaskRun) => string,
    /** The worker is stopping: the tasks it drives go back to the queue. */
    private readonly stopping: () => boolean,
    private readonly logger: Logger,
  ) {
    void this.subscriber.subscribe(this.channel).catch(() => {});
    this.subscriber.on('message', (channel) => {
      if (channel === this.channel) this.wake?.();
    });
    this.renewTimer = setInterval(() => this.renew(), RENEW_MS);
    this.renewTimer.unref();
  }

  private get channel(): string {
    return `${this.keys.inFlight}:released`;
  }

  get waiting(): number {
    return this.queue.length + (this.asking ? 1 : 0);
  }

  /** The cap is checked in Redis at each take. */
  get overCap(): boolean {
    return false;
  }

  async acquire(run: TaskRun, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    // Queue behind the head waiter, if any.
    if (this.asking) {
      const turn = await new Promise<boolean>((resolve) => {
        const go = () => {
          signal.removeEventListener('abort', stop);
          resolve(true);
        };
        const stop = () => {
          const i = this.queue.indexOf(go);
          if (i >= 0) this.queue.splice(i, 1);
          resolve(false);
        };
        signal.addEventListener('abort', stop, { once: true });
        this.queue.push(go);
      });
      if (!turn) return false;
    }
    this.asking = true;
    try {
      for (;;) {
        if (await this.take(run, false)) return true;
        if (signal.aborted) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, RETRY_MS);
          const onAbort = () => done();
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            resolve();
          }
          this.wake = done;
          signal.addEventListener('abort', onAbort, { once: true });
        });
        if (signal.aborted) return false;
      }
    } finally {
      this.wake = undefined;
      this.asking = false;
      this.queue.shift()?.();
    }
  }

  force(run: TaskRun): void {
    run.holdsSlot = true;
    void this.take(run, true).catch(() => {});
  }

  release(run: TaskRun): void {
    if (!run.holdsSlot) return;
    run.holdsSlot = false;
    const member = this.held.get(run) ?? this.memberOf(run);
    this.held.delete(run);
    // Handed back while it still runs at the provider: its slot stays taken (no longer renewed here) for the
    // worker that takes it over, which keeps it as its own — given back, another task would go over the cap.
    if (this.stopping() && run.task.phase === 'submitted' && !run.providerDone) return;
    this.free(member);
  }

  /**
   * Give back the slot of a task that needs none, whoever took it: a worker killed while submitting it left it
   * held, and the task is now `unknown` — counted no more than on one machine after a resume (it may or may not
   * run at the provider; it cannot be polled), rather than blocking a slot until the lease runs out.
   */
  free(member: string): void {
    void this.redis
      .zrem(this.keys.inFlight, member)
      .then(() => this.redis.publish(this.channel, member))
      .catch((error: unknown) =>
        this.logger.warn({ err: String(error) }, 'cannot release an in-flight slot'),
      );
  }

  running(): void {
    // Redis counts the slots held; nothing to count here.
  }

  learnCap(): void {
    if (this.maxInFlight()) return;
    void this.redis
      .flf2vSlotLearn(this.keys.inFlight, this.keys.inFlightCap, CAP_PROBE_MS, REFUSAL_BURST_MS)
      .then((cap) =>
        this.logger.info({ maxInFlight: cap }, 'the provider caps running tasks; learned the cap'),
      )
      .catch(() => {});
  }

  /** Stop renewing (the process ends; its slots free themselves after the lease unless released). */
  close(): void {
    clearInterval(this.renewTimer);
  }

  /** @throws BatchError `E_BACKEND` when Redis cannot be asked (fatal: the worker stops, every task kept). */
  private async take(run: TaskRun, force: boolean): Promise<boolean> {
    const member = this.memberOf(run);
    let got: number;
    try {
      got = await this.redis.flf2vSlotTake(
        this.keys.inFlight,
        this.keys.inFlightCap,
        member,
        LEASE_MS,
        this.maxInFlight() ?? 0,
        force ? 1 : 0,
        CAP_PROBE_MS,
      );
    } catch (cause) {
      throw backendError('cannot take an in-flight slot', cause);
    }
    if (got !== 1) return false;
    run.holdsSlot = true;
    this.held.set(run, member);
    return true;
  }

  private renew(): void {
    if (this.held.size === 0) return;
    void this.redis.flf2vSlotRenew(this.keys.inFlight, LEASE_MS, ...this.held.values()).catch(() => {});
  }
}
