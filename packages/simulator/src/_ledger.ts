import {
  type AcceptedSubmission,
  ENDPOINTS,
  type Endpoint,
  type FaultKind,
  type Ledger,
  type RequestLogEntry,
  type UploadRecord,
  type VideoRecord,
} from './types.js';

interface KeyStats {
  total: number;
  maxConcurrentRunning: number;
  maxInFlight: number;
}

/**
 * Records what the simulator saw, cheaply per request (counters, maps, a bounded ring for the request log);
 * `snapshot()` copies it out as a plain `Ledger`.
 */
export class LedgerRecorder {
  private readonly accepted: AcceptedSubmission[] = [];
  private readonly rejected = new Map<string, number>();
  private readonly uploads = new Map<string, UploadRecord>();
  private statusQueries = 0;
  private resultQueries = 0;
  private readonly byTask = new Map<string, { status: number; result: number }>();
  private tasksTotal = 0;
  private restored = 0;
  private maxConcurrentRunning = 0;
  private maxInFlight = 0;
  private readonly byKey = new Map<string, KeyStats>();
  private readonly rateLimited = Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<Endpoint, number>;
  private readonly faultsByKind = new Map<FaultKind, number>();
  private readonly faultsByEndpoint = new Map<string, number>();
  private readonly videos = new Map<string, VideoRecord>();
  private readonly counts = new Map<string, number>();
  private log: RequestLogEntry[] = [];
  private logHead = 0;
  private dropped = 0;

  constructor(
    readonly startedAt: number,
    readonly seed: number,
    private logLimit: number,
  ) {}

  submissionAccepted(entry: AcceptedSubmission): void {
    this.accepted.push(entry);
  }

  submissionRejected(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  upload(sha256: string, record: Omit<UploadRecord, 'count'>): void {
    const prev = this.uploads.get(sha256);
    if (prev) prev.count++;
    else this.uploads.set(sha256, { count: 1, ...record });
  }

  query(kind: 'status' | 'result', taskId: string | undefined): void {
    if (kind === 'status') this.statusQueries++;
    else this.resultQueries++;
    if (taskId === undefined) return;
    let t = this.byTask.get(taskId);
    if (!t) {
      t = { status: 0, result: 0 };
      this.byTask.set(taskId, t);
    }
    t[kind]++;
  }

  tasksRestored(n: number): void {
    this.restored += n;
  }

  taskCreated(key: string): void {
    this.tasksTotal++;
    this.keyStats(key).total++;
  }

  /** Called whenever a slot is taken or a task submitted, with the counts at that moment. */
  concurrency(key: string, keyRunning: number, keyInFlight: number, running: number, inFlight: number): void {
    const k = this.keyStats(key);
    if (keyRunning > k.maxConcurrentRunning) k.maxConcurrentRunning = keyRunning;
    if (keyInFlight > k.maxInFlight) k.maxInFlight = keyInFlight;
    if (running > this.maxConcurrentRunning) this.maxConcurrentRunning = running;
    if (inFlight > this.maxInFlight) this.maxInFlight = inFlight;
  }

  rateLimitSent(endpoint: string): void {
    if (endpoint in this.rateLimited) this.rateLimited[endpoint as Endpoint]++;
  }

  fault(endpoint: Endpoint, kind: FaultKind): void {
    this.faultsByKind.set(kind, (this.faultsByKind.get(kind) ?? 0) + 1);
    const k = `${endpoint}:${kind}`;
    this.faultsByEndpoint.set(k, (this.faultsByEndpoint.get(k) ?? 0) + 1);
  }

  videoServed(taskId: string, index: number, sha256: string, bytes: number, partial: boolean): void {
    const k = `${taskId}/${index}`;
    let v = this.videos.get(k);
    if (!v) {
      v = { taskId, index, sha256, bytes, downloads: 0, rangeRequests: 0 };
      this.videos.set(k, v);
    }
    if (partial) v.rangeRequests++;
    else v.downloads++;
  }

  count(endpoint: string): void {
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + 1);
  }

  request(entry: RequestLogEntry): void {
    if (this.logLimit === 0) {
      this.dropped++;
      return;
    }
    if (this.log.length < this.logLimit) {
      this.log.push(entry);
      return;
    }
    this.log[this.logHead] = entry;
    this.logHead = (this.logHead + 1) % this.logLimit;
    this.dropped++;
  }

  resizeLog(limit: number): void {
    const entries = this.orderedLog();
    const keep = entries.slice(Math.max(0, entries.length - limit));
    this.dropped += entries.length - keep.length;
    this.log = keep;
    this.logHead = 0;
    this.logLimit = limit;
  }

  snapshot(): Ledger {
    const obj = <V>(m: Map<string, V>, copy: (v: V) => V): Record<string, V> => {
      const out: Record<string, V> = {};
      for (const [k, v] of m) out[k] = copy(v);
      return out;
    };
    return {
      startedAt: this.startedAt,
      seed: this.seed,
      submissions: {
        accepted: this.accepted.map((a) => ({ ...a })),
        rejected: obj(this.rejected, (n) => n),
      },
      uploads: obj(this.uploads, (u) => ({ ...u })),
      queries: {
        status: this.statusQueries,
        result: this.resultQueries,
        byTask: obj(this.byTask, (q) => ({ ...q })),
      },
      tasks: {
        total: this.tasksTotal,
        restored: this.restored,
        maxConcurrentRunning: this.maxConcurrentRunning,
        maxInFlight: this.maxInFlight,
        byKey: obj(this.byKey, (k) => ({ ...k })),
      },
      rateLimited: { ...this.rateLimited },
      faults: {
        byKind: Object.fromEntries(this.faultsByKind),
        byEndpoint: obj(this.faultsByEndpoint, (n) => n),
      },
      videos: [...this.videos.values()].map((v) => ({ ...v })),
      requests: {
        counts: obj(this.counts, (n) => n),
        log: this.orderedLog().map((e) => ({ ...e })),
        dropped: this.dropped,
      },
    };
  }

  private orderedLog(): RequestLogEntry[] {
    return this.logHead === 0
      ? this.log
      : [...this.log.slice(this.logHead), ...this.log.slice(0, this.logHead)];
  }

  private keyStats(key: string): KeyStats {
    let k = this.byKey.get(key);
    if (!k) {
      k = { total: 0, maxConcurrentRunning: 0, maxInFlight: 0 };
      this.byKey.set(key, k);
    }
    return k;
  }
}
