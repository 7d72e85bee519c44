/** A counting semaphore with FIFO waiters; `force` takes a slot even past the limit (tasks already running). */
export class Semaphore {
  private used = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private cap: number) {}

  get limit(): number {
    return this.cap;
  }

  /** Change the limit (a learned provider cap); waiters are let in if it grew. */
  setLimit(limit: number): void {
    this.cap = Math.max(1, limit);
    this.drain();
  }

  get inUse(): number {
    return this.used;
  }

  /** Acquirers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.used < this.cap && this.waiters.length === 0) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.used++;
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  force(): void {
    this.used++;
  }

  release(): void {
    this.used--;
    this.drain();
  }

  private drain(): void {
    while (this.used < this.cap && this.waiters.length > 0) this.waiters.shift()!();
  }
}
