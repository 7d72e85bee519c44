import { MinHeap } from './_heap.js';

export type TaskState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED';

export interface Task {
  id: string;
  /** Key fingerprint of the submitter: tasks are only visible to the key that created them. */
  key: string;
  submittedAt: number;
  pendingMs: number;
  runningMs: number;
  /** When the task got a running slot; NaN while it waits in the queue. */
  admittedAt: number;
  /** admittedAt + pendingMs + runningMs; NaN while queued. */
  endAt: number;
  outcome: 'COMPLETED' | 'FAILED';
  failMessage: string | undefined;
  numberOfVideos: number;
  /** Seconds of video asked for (5, 6 or 8): a rendered clip lasts that long. */
  duration: number;
  /** Upload hashes of the two frames, when both were uploaded here (for the optional render). */
  frames: [string, string] | undefined;
}

export interface TaskView {
  state: TaskState;
  /** 0–100 */
  progress: number;
}

interface Lane {
  running: MinHeap<Task>;
  queue: Task[];
  queueHead: number;
}

export type ConcurrencyListener = (
  key: string,
  keyRunning: number,
  keyInFlight: number,
  running: number,
  inFlight: number,
) => void;

/**
 * Tasks and their lifecycle, computed from the clock rather than driven by timers: each key has a lane with
 * the tasks holding a running slot (a heap by end time) and a FIFO of tasks waiting for one. `advance(now)`
 * replays every completion up to `now` in order, handing each freed slot to the next waiting task at the
 * moment it was freed, so the outcome is the same however rarely the simulator is asked.
 */
export class TaskBook {
  private readonly tasks = new Map<string, Task>();
  private readonly lanes = new Map<string, Lane>();
  private running = 0;
  private queued = 0;

  constructor(
    private cap: number,
    private readonly onConcurrency: ConcurrencyListener,
  ) {}

  get(id: string): Task | undefined {
    return this.tasks.get(id);
  }

  has(id: string): boolean {
    return this.tasks.has(id);
  }

  setCap(cap: number | null): void {
    this.cap = cap ?? Number.POSITIVE_INFINITY;
  }

  /** Tasks holding a slot for `key` after advancing to `now`, and the earliest moment one frees up. */
  occupancy(key: string, now: number): { running: number; nextFreeAt: number } {
    this.advance(now);
    const lane = this.lanes.get(key);
    return { running: lane?.running.size ?? 0, nextFreeAt: lane?.running.peek()?.endAt ?? now };
  }

  get capacity(): number {
    return this.cap;
  }

  /** Add a task submitted at `now`: it takes a slot at once if one is free, else it waits. */
  add(task: Task, now: number): void {
    this.advance(now);
    this.tasks.set(task.id, task);
    const lane = this.lane(task.key);
    if (lane.running.size < this.cap && lane.queueHead === lane.queue.length) {
      this.admit(lane, task, now);
    } else {
      lane.queue.push(task);
      this.queued++;
      this.report(task.key, lane);
    }
  }

  view(task: Task, now: number): TaskView {
    this.advance(now);
    if (Number.isNaN(task.admittedAt)) return { state: 'PENDING', progress: 0 };
    const runAt = task.admittedAt + task.pendingMs;
    if (now < runAt) return { state: 'PENDING', progress: 0 };
    if (now < task.endAt) {
      const pct = Math.floor(((now - runAt) / task.runningMs) * 100);
      return { state: 'RUNNING', progress: Math.min(99, Math.max(1, pct)) };
    }
    return { state: task.outcome, progress: 100 };
  }

  /** Replay completions up to `now` across every lane, earliest first (so cross-key maxima are exact). */
  advance(now: number): void {
    for (;;) {
      let first: Lane | undefined;
      let firstEnd = now;
      for (const lane of this.lanes.values()) {
        const top = lane.running.peek();
        if (top !== undefined && top.endAt <= firstEnd) {
          first = lane;
          firstEnd = top.endAt;
        }
      }
      if (first === undefined) break;
      first.running.pop();
      this.running--;
      this.fill(first, (t) => Math.max(firstEnd, t.submittedAt));
    }
    // A raised cap frees slots now.
    for (const lane of this.lanes.values()) this.fill(lane, () => now);
  }

  private fill(lane: Lane, startAt: (t: Task) => number): void {
    while (lane.running.size < this.cap && lane.queueHead < lane.queue.length) {
      const next = lane.queue[lane.queueHead++]!;
      this.queued--;
      this.admit(lane, next, startAt(next));
    }
    if (lane.queueHead > 1024 && lane.queueHead * 2 > lane.queue.length) {
      lane.queue.splice(0, lane.queueHead);
      lane.queueHead = 0;
    }
  }

  private admit(lane: Lane, task: Task, at: number): void {
    task.admittedAt = at;
    task.endAt = at + task.pendingMs + task.runningMs;
    lane.running.push(task);
    this.running++;
    this.report(task.key, lane);
  }

  private report(key: string, lane: Lane): void {
    const waiting = lane.queue.length - lane.queueHead;
    this.onConcurrency(
      key,
      lane.running.size,
      lane.running.size + waiting,
      this.running,
      this.running + this.queued,
    );
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { running: new MinHeap<Task>((t) => t.endAt), queue: [], queueHead: 0 };
      this.lanes.set(key, lane);
    }
    return lane;
  }
}
