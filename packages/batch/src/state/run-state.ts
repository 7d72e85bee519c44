import {
  type ErrorRecord,
  emptyStats,
  type FrameRecord,
  type JournalRecord,
  type ProviderIdentity,
  type RequestStats,
  type TaskParamsRecord,
  type TaskRecord,
} from './records.js';

/**
 * The run directory's state, materialized from the journal. `apply` is idempotent per record, so replaying a
 * journal over a snapshot that already contains some of its records is harmless.
 *
 * Phases: `planned` (nothing sent) → `unknown` (an intent without an answer) → `submitted` (has a taskId) →
 * `completed` (has URLs) → `succeeded` (every video on disk); `failed` is terminal until reopened.
 */
export type TaskPhase = 'planned' | 'unknown' | 'submitted' | 'completed' | 'succeeded' | 'failed';

export interface VideoState {
  path: string;
  url: string;
  sha256: string;
  bytes: number;
  at: string;
}

export interface TaskState {
  key: string;
  id: string;
  /** Which generation of shot `id` (absent: 1; see `manifest/take.ts`). */
  take?: number;
  /** Started by `--retake`, not written in the manifest. */
  retake?: true;
  plannedAt: string;
  params: TaskParamsRecord;
  image: FrameRecord;
  last_image: FrameRecord;
  phase: TaskPhase;
  /** Submission numbers that reached (or may have reached) the provider. */
  sent: number[];
  /** Submission numbers whose intent is durable but whose outcome was never recorded (killed mid-request). */
  pending: number[];
  /** Highest submission number used so far. */
  lastN: number;
  taskId?: string;
  /** taskIds of earlier submissions that were abandoned (failed, then re-sent). */
  previousTaskIds?: string[];
  submittedAt?: string;
  completedAt?: string;
  urls?: string[];
  videos: (VideoState | null)[];
  downloadedAt?: string;
  error?: ErrorRecord;
  failedStage?: string;
  failedAt?: string;
  stalledAt?: string;
  attempts: number;
}

export interface UploadState {
  url: string;
  at: string;
}

/**
 * When a session ran, by the wall clock: from its `session` record to its last record (a killed session's
 * heartbeats bound it within about a minute). `suspended`: time the machine slept inside the span, by the `at` of
 * the heartbeat that noticed it. Time outside every span, and suspended time, is time no session was running:
 * nothing learned from time may count it (see `run/clock.ts`).
 */
export interface SessionSpan {
  start: string;
  end: string;
  suspended?: Record<string, number>;
}

export interface StateHeader {
  job: string;
  manifestHash: string;
  tool: string;
  createdAt: string;
  generation: number;
}

/** How many times the task was sent (answered or not), all sessions. */
export const submissionsOf = (task: TaskState): number => task.sent.length + task.pending.length;

function addUnique(list: number[], n: number): void {
  if (!list.includes(n)) list.push(n);
}

function remove(list: number[], n: number): number[] {
  return list.includes(n) ? list.filter((x) => x !== n) : list;
}

export class RunState {
  header?: StateHeader;
  readonly tasks = new Map<string, TaskState>();
  readonly uploads = new Map<string, UploadState>();
  /** Request counters per session number (idempotent under replay), summed by `stats`. */
  readonly statsBySession = new Map<number, RequestStats>();
  /** How each session ended; a session with no entry was killed. */
  readonly sessionEnds = new Map<number, 'finished' | 'interrupted'>();
  sessions = 0;
  /** What stopped each session that a fatal error ended. */
  readonly sessionErrors = new Map<number, { code: string; message: string; retryable: boolean }>();
  firstSessionAt?: string;
  lastSessionAt?: string;
  /** The latest session's manifest path and limits, for reports rendered later from state alone. */
  manifest?: string;
  limits: { submitRpm?: number; queryRpm?: number; maxInFlight?: number } = {};
  /** The provider of the latest session that recorded one. */
  provider?: ProviderIdentity;
  /** Each shot's chosen take, by id (`flf2v choose`); a shot not listed has take 1 chosen. */
  readonly chosen = new Map<string, number>();
  /** When each session ran (see `SessionSpan`). */
  readonly sessionSpans = new Map<number, SessionSpan>();
  /** The session that records without a session number belong to: the latest `session` record applied. */
  private spanOwner?: number;
  /** Records applied since the state was created (replayed + appended): drives compaction. */
  records = 0;

  apply(rec: JournalRecord): void {
    this.records++;
    this.extendSpan(rec);
    switch (rec.t) {
      case 'header':
        this.header = {
          job: rec.job,
          manifestHash: rec.manifestHash,
          tool: rec.tool,
          createdAt: rec.createdAt,
          generation: rec.generation,
        };
        return;
      case 'session':
        this.sessions = Math.max(this.sessions, rec.n);
        this.firstSessionAt ??= rec.at;
        if (!this.lastSessionAt || rec.at >= this.lastSessionAt) {
          this.lastSessionAt = rec.at;
          this.manifest = rec.manifest;
          this.limits = rec.limits ?? {};
          if (rec.provider) this.provider = rec.provider;
        }
        return;
      case 'heartbeat': // its session's request counts so far: what a killed session leaves (`stats` ends it)
        if (rec.stats && this.spanOwner !== undefined && !this.sessionEnds.has(this.spanOwner))
          this.statsBySession.set(this.spanOwner, { ...emptyStats(), ...rec.stats });
        return;
      case 'chosen':
        this.chosen.set(rec.id, rec.take);
        return;
      case 'stats':
        this.statsBySession.set(rec.session, { ...emptyStats(), ...rec.stats });
        this.sessionEnds.set(rec.session, rec.state);
        if (rec.stoppedBy) this.sessionErrors.set(rec.session, rec.stoppedBy);
        else this.sessionErrors.delete(rec.session);
        return;
      case 'uploaded':
        this.uploads.set(rec.sha256, { url: rec.url, at: rec.at });
        return;
      case 'planned':
        if (!this.tasks.has(rec.key)) {
          this.tasks.set(rec.key, {
            key: rec.key,
            id: rec.id,
            ...(rec.take !== undefined && rec.take > 1 ? { take: rec.take } : {}),
            ...(rec.retake ? { retake: true as const } : {}),
            plannedAt: rec.at,
            params: rec.params,
            image: rec.image,
            last_image: rec.last_image,
            phase: 'planned',
            sent: [],
            pending: [],
            lastN: 0,
            videos: [],
            attempts: 0,
          });
          // Records read before their task's `planned` (a salvage passed over it): now they have a task.
          const held = this.orphans.get(rec.key);
          this.orphans.delete(rec.key);
          for (const r of held ?? []) this.applyToTask(this.tasks.get(rec.key)!, r);
        }
        return;
    }
    const task = this.tasks.get(rec.key);
    if (task) this.applyToTask(task, rec);
    else this.orphans.set(rec.key, [...(this.orphans.get(rec.key) ?? []), rec]);
  }

  /** Records of tasks not planned (yet: a salvage passed over the line), held until planned. Not in snapshots. */
  private readonly orphans = new Map<string, TaskRecord[]>();

  private applyToTask(task: TaskState, rec: TaskRecord): void {
    switch (rec.t) {
      case 'intent':
        task.lastN = Math.max(task.lastN, rec.n);
        if (!task.sent.includes(rec.n)) addUnique(task.pending, rec.n);
        if (task.phase === 'planned') task.phase = 'unknown';
        break;
      case 'submitted':
        task.pending = remove(task.pending, rec.n);
        addUnique(task.sent, rec.n);
        task.lastN = Math.max(task.lastN, rec.n);
        task.taskId = rec.taskId;
        task.submittedAt = rec.at;
        if (task.phase === 'planned' || task.phase === 'unknown') task.phase = 'submitted';
        task.error = undefined;
        task.attempts = Math.max(task.attempts, rec.attempts);
        break;
      case 'not_created':
        task.pending = remove(task.pending, rec.n);
        if (task.phase === 'unknown' && task.pending.length === 0 && !task.taskId) task.phase = 'planned';
        break;
      case 'unknown':
        task.pending = remove(task.pending, rec.n);
        addUnique(task.sent, rec.n);
        if (!task.taskId || task.phase === 'planned') task.phase = 'unknown';
        task.error = rec.error;
        break;
      case 'completed':
        task.taskId = rec.taskId;
        task.urls = rec.urls;
        task.completedAt = rec.at;
        task.stalledAt = undefined;
        task.attempts = Math.max(task.attempts, rec.attempts);
        if (task.phase !== 'succeeded') task.phase = 'completed';
        this.checkSucceeded(task);
        break;
      case 'downloaded':
        task.videos[rec.index] = {
          path: rec.path,
          url: rec.url,
          sha256: rec.sha256,
          bytes: rec.bytes,
          at: rec.at,
        };
        task.attempts = Math.max(task.attempts, rec.attempts);
        this.checkSucceeded(task);
        break;
      case 'failed':
        task.phase = 'failed';
        task.error = rec.error;
        task.failedStage = rec.stage;
        task.failedAt = rec.at;
        task.attempts = Math.max(task.attempts, rec.attempts);
        break;
      case 'stalled':
        task.stalledAt = rec.at;
        break;
      case 'video_missing': // gone from disk: fetched again (it is paid for)
        task.videos[rec.index] = null;
        if (task.phase === 'succeeded') task.phase = 'completed';
        break;
      case 'reopened':
        task.error = undefined;
        task.failedStage = undefined;
        task.failedAt = undefined;
        task.stalledAt = undefined;
        if (rec.reason === 'retry-failed' && task.taskId && !task.urls) {
          task.phase = 'submitted'; // poll the existing task first: it may have finished after all
        } else if (rec.reason === 'retry-failed' && task.urls) {
          task.phase = 'completed'; // the task finished; only the download failed
        } else {
          if (task.taskId) task.previousTaskIds = [...(task.previousTaskIds ?? []), task.taskId];
          task.taskId = undefined;
          task.submittedAt = undefined;
          task.urls = undefined;
          task.completedAt = undefined;
          task.videos = [];
          task.pending = [];
          task.phase = 'planned';
        }
        break;
    }
  }

  /** Stretch the span of the session a record belongs to up to the record's time (idempotent). */
  private extendSpan(rec: JournalRecord): void {
    // A choice is made between sessions (`flf2v choose`): it is no session's time.
    if (rec.t === 'header' || rec.t === 'chosen') return;
    const n = rec.t === 'session' ? rec.n : rec.t === 'stats' ? rec.session : this.spanOwner;
    if (rec.t === 'session') this.spanOwner = rec.n;
    if (n === undefined) return;
    const span = this.sessionSpans.get(n);
    if (!span) {
      this.sessionSpans.set(n, { start: rec.at, end: rec.at });
    } else {
      if (rec.t === 'session' && rec.at < span.start) span.start = rec.at;
      if (rec.at > span.end) span.end = rec.at;
    }
    if (rec.t === 'heartbeat' && rec.suspendedMs) {
      const s = this.sessionSpans.get(n)!;
      s.suspended = { ...s.suspended, [rec.at]: rec.suspendedMs };
    }
  }

  /** How the latest session ended: `interrupted` also when it was killed without a word. */
  get lastSessionEnd(): 'finished' | 'interrupted' | undefined {
    if (this.sessions === 0) return undefined;
    return this.sessionEnds.get(this.sessions) ?? 'interrupted';
  }

  /** The error that stopped the latest session, if one did. */
  get lastSessionError(): { code: string; message: string; retryable: boolean } | undefined {
    return this.sessionErrors.get(this.sessions);
  }

  /** Request counters summed over every session of this directory. */
  get stats(): RequestStats {
    const total = emptyStats();
    for (const s of this.statsBySession.values()) {
      for (const k of Object.keys(total) as (keyof RequestStats)[]) total[k] += s[k];
    }
    return total;
  }

  private checkSucceeded(task: TaskState): void {
    const urls = task.urls;
    if (!urls || urls.length === 0) return;
    for (let i = 0; i < urls.length; i++) if (!task.videos[i]) return;
    task.phase = 'succeeded';
    task.downloadedAt = task.videos.reduce((max, v) => (v && v.at > max ? v.at : max), '');
  }

  toSnapshot(generation: number): StateSnapshot {
    return {
      v: 1,
      generation,
      header: this.header ? { ...this.header, generation } : undefined,
      tasks: [...this.tasks.values()],
      uploads: [...this.uploads.entries()].map(([sha256, u]) => ({ sha256, ...u })),
      stats: [...this.statsBySession.entries()].map(([session, stats]) => ({
        session,
        stats,
        state: this.sessionEnds.get(session),
        ...(this.sessionErrors.has(session) ? { stoppedBy: this.sessionErrors.get(session) } : {}),
      })),
      sessions: this.sessions,
      firstSessionAt: this.firstSessionAt,
      lastSessionAt: this.lastSessionAt,
      manifest: this.manifest,
      limits: this.limits,
      ...(this.provider ? { provider: this.provider } : {}),
      ...(this.chosen.size > 0 ? { chosen: [...this.chosen].map(([id, take]) => ({ id, take })) } : {}),
      spans: [...this.sessionSpans.entries()].map(([n, span]) => ({ n, ...span })),
    };
  }

  static fromSnapshot(snapshot: StateSnapshot): RunState {
    const state = new RunState();
    state.header = snapshot.header;
    for (const task of snapshot.tasks) state.tasks.set(task.key, task);
    for (const { sha256, url, at } of snapshot.uploads) state.uploads.set(sha256, { url, at });
    for (const { session, stats, state: ended, stoppedBy } of snapshot.stats) {
      state.statsBySession.set(session, { ...emptyStats(), ...stats });
      if (ended) state.sessionEnds.set(session, ended);
      if (stoppedBy) state.sessionErrors.set(session, stoppedBy);
    }
    state.sessions = snapshot.sessions;
    state.firstSessionAt = snapshot.firstSessionAt;
    state.lastSessionAt = snapshot.lastSessionAt;
    state.manifest = snapshot.manifest;
    state.limits = snapshot.limits ?? {};
    state.provider = snapshot.provider;
    for (const { n, ...span } of snapshot.spans ?? []) state.sessionSpans.set(n, span);
    for (const { id, take } of snapshot.chosen ?? []) state.chosen.set(id, take);
    // Records after a snapshot belong to the session that compacted (the latest one).
    if (snapshot.sessions > 0) state.spanOwner = snapshot.sessions;
    return state;
  }
}

export interface StateSnapshot {
  v: 1;
  /** The journal generation that continues this snapshot. */
  generation: number;
  header?: StateHeader;
  tasks: TaskState[];
  uploads: { sha256: string; url: string; at: string }[];
  stats: {
    session: number;
    stats: RequestStats;
    state?: 'finished' | 'interrupted';
    stoppedBy?: { code: string; message: string; retryable: boolean };
  }[];
  sessions: number;
  firstSessionAt?: string;
  lastSessionAt?: string;
  manifest?: string;
  limits?: { submitRpm?: number; queryRpm?: number; maxInFlight?: number };
  provider?: ProviderIdentity;
  /** Absent in snapshots written before heartbeats existed: those sessions' spans are unknown (counted as not running). */
  spans?: ({ n: number } & SessionSpan)[];
  /** Chosen takes (absent: none chosen, or written before takes existed). */
  chosen?: { id: string; take: number }[];
}
