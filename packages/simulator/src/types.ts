/**
 * Public types of @flf2v/simulator: options (what `startSimulator` and YAML config files accept), the running
 * simulator handle, and the ledger it keeps.
 */

/** The provider endpoints faults and rate-limit counters are keyed by. */
export type Endpoint = 'upload' | 'submit' | 'status' | 'result' | 'download';

export const ENDPOINTS: readonly Endpoint[] = Object.freeze([
  'upload',
  'submit',
  'status',
  'result',
  'download',
]);

/**
 * What an injected fault does.
 * - `http-5xx`: answers `status` (500/502/503/504) with a JSON body; nothing is processed.
 * - `rate-limit`: answers 429 with a `Retry-After` in the rule's format; nothing is processed.
 * - `reset-before`: destroys the connection as soon as the request arrives; nothing is processed.
 * - `reset-after`: processes the request (a submit creates its task), then destroys the connection before
 *   answering: the "maybe created" case.
 * - `slow`: waits `delayMs` before handling; combines with the other rules (it does not end evaluation).
 * - `truncated`: processes, then answers with the JSON cut in half (a download: the full `Content-Length`,
 *   half the bytes, then the connection is closed).
 * - `non-json`: answers HTTP 200 with an HTML page, as a misbehaving gateway would; nothing is processed.
 * - `missing-fields`: processes, then answers `code: 0` with `data` lacking its fields.
 * - `business-error`: answers HTTP 200 with `code` != 0 and `message`; nothing is processed.
 */
export type FaultKind =
  | 'http-5xx'
  | 'rate-limit'
  | 'reset-before'
  | 'reset-after'
  | 'slow'
  | 'truncated'
  | 'non-json'
  | 'missing-fields'
  | 'business-error';

export const FAULT_KINDS: readonly FaultKind[] = Object.freeze([
  'http-5xx',
  'rate-limit',
  'reset-before',
  'reset-after',
  'slow',
  'truncated',
  'non-json',
  'missing-fields',
  'business-error',
]);

/** How a 429 states when to come back. `garbage` sends an unparsable value; `none` omits the header. */
export type RetryAfterFormat = 'seconds' | 'http-date' | 'garbage' | 'none';

export interface FaultRule {
  kind: FaultKind;
  /** The endpoints the rule applies to. @default every endpoint */
  endpoints?: Endpoint | Endpoint[];
  /** Chance (0–1) that a matching request gets the fault, drawn from the seeded generator. @default 1 */
  probability?: number;
  /** Fire at most this many times, then the rule is spent. @default unlimited */
  count?: number;
  /** `http-5xx` only. @default 503 */
  status?: 500 | 502 | 503 | 504;
  /** `rate-limit` only. @default 'seconds' */
  retryAfter?: RetryAfterFormat;
  /** `rate-limit` only: the wait announced. @default 1000 */
  retryAfterMs?: number;
  /** `slow` only. @default 1000 */
  delayMs?: number;
  /** `business-error` only: the provider code. @default 50000 */
  code?: number;
  /** `business-error` only. @default 'system busy, please try again later' */
  message?: string;
}

/** At most `max` requests per key in any sliding window of `windowMs`. */
export interface WindowLimit {
  max: number;
  windowMs: number;
}

/** What a task's running time is computed from. */
export interface TaskTimingInput {
  resolution: string;
  duration: number;
  numberOfVideos: number;
  prompt: string;
}

/**
 * Running time (ms) by resolution and duration: keys `"720p/5"` (resolution and seconds), `"720p"`, or `"*"`,
 * looked up in that order; 0 when none matches.
 */
export type RunningMsTable = Record<string, number>;

export interface TimingOptions {
  /** Time a task spends PENDING after it gets a running slot, before it is RUNNING. @default 1000 */
  pendingMs: number;
  /** Time a task spends RUNNING. @default { '720p': 4000, '1080p': 8000 } */
  runningMs: number | RunningMsTable | ((task: TaskTimingInput) => number);
  /** Each task's pending and running time is scaled by a seeded factor in [1 - j, 1 + j]. @default 0.1 */
  jitterRatio: number;
  /** How long a signed result video URL stays valid; then downloads get 403. @default 3_600_000 (1 h) */
  urlTtlMs: number;
}

export interface LimitOptions {
  /** Submissions per key. `null`: unlimited. @default { max: 60, windowMs: 60_000 } */
  submit: WindowLimit | null;
  /** Status and result queries per key, counted together. `null`: unlimited. @default { max: 600, windowMs: 60_000 } */
  query: WindowLimit | null;
  /** Uploads per key. `null`: unlimited. @default null */
  upload: WindowLimit | null;
  /** Tasks per key holding a running slot at once. `null`: unlimited. @default 5 */
  maxRunningPerKey: number | null;
  /** Over the cap, a new task waits PENDING for a slot (`queue`) or the submit gets 429 (`reject`). @default 'queue' */
  overCapacity: 'queue' | 'reject';
  /** @default 2000 (characters, counted as code points) */
  promptMaxChars: number;
  /** @default 2000 */
  negativePromptMaxChars: number;
  /** Largest image an upload accepts. @default 20 MiB */
  maxImageBytes: number;
  /** Largest JSON body a submit accepts. @default 1 MiB */
  maxBodyBytes: number;
  /** Width/height each frame must be within (both frames uploaded here). `null`: unchecked. @default [0.25, 4] */
  frameAspectRange: [number, number] | null;
  /** First frame's ratio divided by the last frame's must be within. `null`: unchecked. @default [0.8, 1.25] */
  framePairRatioRange: [number, number] | null;
}

export interface ResponseOptions {
  /** Status `data` as `[{ status, progress }]` (`array`) or `{ status, progress }` (`object`). @default 'array' */
  statusShape: 'array' | 'object';
  /** Result `data` as `{ urls }` (`object`) or `[{ result: { urls } }]` (`array`). @default 'object' */
  resultShape: 'object' | 'array';
  /** `progress` as `"45%"` (`percent`) or `45` (`number`). @default 'percent' */
  progressStyle: 'percent' | 'number';
  /** Invalid submissions get HTTP 200 with `code` != 0 (`code`) or HTTP 400 (`http-400`). @default 'code' */
  validationErrors: 'code' | 'http-400';
  /** `Retry-After` on the simulator's own 429s. @default 'seconds' */
  retryAfterFormat: 'seconds' | 'http-date';
}

/** Fully resolved options: what the simulator runs with. */
export interface ResolvedSimulatorOptions {
  /** @default 0 (any free port) */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  /** Accept only this API key. @default undefined: any key starting with `sk-` */
  key: string | undefined;
  /** Seed for every random decision (faults, jitter, ids). @default a random seed, shown in the ledger */
  seed: number | undefined;
  /** The time source, in epoch ms; tests may pass a fake clock. Programmatic only. @default Date.now */
  clock: () => number;
  timings: TimingOptions;
  limits: LimitOptions;
  responses: ResponseOptions;
  /** Prompts matching this get HTTP 400 with the provider's moderation message. @default /\[sim:moderation\]/i */
  moderationPattern: RegExp | null;
  /** Tasks whose prompt matches this end FAILED. @default /\[sim:fail\]/i */
  failPattern: RegExp | null;
  /** Chance (0–1) that any other task ends FAILED, drawn from the seeded generator. @default 0 */
  failureRate: number;
  /** Injected faults, evaluated in order for each request. @default [] */
  faults: FaultRule[];
  /**
   * Result videos: the shipped fixture (`fixture`) or, when ffmpeg is on PATH and both frames were uploaded
   * here, a clip of the task's duration that moves from the first frame to the last (`ffmpeg`: H.264, 320 px
   * on its longer side, at the first frame's aspect ratio). Either way each video's bytes are unique.
   * `flf2v run --simulator` and `flf2v simulator` use `ffmpeg`.
   * @default 'fixture'
   */
  render: 'fixture' | 'ffmpeg';
  /**
   * Where rendered clips are kept, per frame pair and duration, so that each is rendered once across
   * simulators and processes; `null`: in memory only. @default `<os tmpdir>/flf2v-simulator-renders`
   */
  renderCacheDir: string | null;
  /** How many requests the ledger's request log keeps (oldest dropped first). @default 50_000 */
  requestLogLimit: number;
  /**
   * Remember accepted tasks in this file (JSON lines, appended as they are accepted) and take back the tasks
   * it holds on start, so that a client resuming after the simulator restarted still finds its tasks, in the
   * state their times give. `flf2v run --simulator` keeps one in the run directory. @default undefined
   */
  taskFile: string | undefined;
  /**
   * Keep uploaded frames in this directory (`<sha256>.<png|jpg>`) and know them again after a restart, so that
   * frame URLs handed out by an earlier process stay valid, as a real provider's do. `flf2v run --simulator`
   * keeps one in the run directory. @default undefined
   */
  uploadDir: string | undefined;
}

/** Options as given: every field optional; groups (`timings`, `limits`, `responses`) merge field by field. */
export interface SimulatorOptions
  extends Partial<
    Omit<ResolvedSimulatorOptions, 'timings' | 'limits' | 'responses' | 'moderationPattern' | 'failPattern'>
  > {
  timings?: Partial<TimingOptions>;
  limits?: Partial<LimitOptions>;
  responses?: Partial<ResponseOptions>;
  /** A RegExp, or a string compiled case-insensitively; `null` disables. */
  moderationPattern?: RegExp | string | null;
  failPattern?: RegExp | string | null;
}

export interface AcceptedSubmission {
  taskId: string;
  /** sha256 of the request body as canonical JSON (keys sorted). */
  bodyHash: string;
  /** Epoch ms. */
  at: number;
  /** A short fingerprint of the API key (never the key). */
  key: string;
}

export interface UploadRecord {
  count: number;
  bytes: number;
  type: 'png' | 'jpg';
  width: number;
  height: number;
}

export interface VideoRecord {
  taskId: string;
  index: number;
  sha256: string;
  bytes: number;
  /** Complete (200) responses with a body. */
  downloads: number;
  /** Partial (206) responses. */
  rangeRequests: number;
}

export interface RequestLogEntry {
  /** Epoch ms when the request arrived. */
  at: number;
  endpoint: string;
  /** HTTP status sent; 0 when the connection was reset instead. */
  status: number;
  /** Key fingerprint, or null when the request carried no accepted key. */
  key: string | null;
  /** Present on 429s that carried a parsable `Retry-After`: the wait announced, in ms. */
  retryAfterMs?: number;
}

/** Everything the simulator saw: a snapshot, safe to keep and compare. */
export interface Ledger {
  /** Epoch ms when the simulator started. */
  startedAt: number;
  seed: number;
  submissions: {
    accepted: AcceptedSubmission[];
    /** Count of rejected submissions by reason: `auth`, `rate-limit`, `capacity`, `invalid-json`, `body-too-large`, `validation`, `moderation`. */
    rejected: Record<string, number>;
  };
  /** Uploads by sha256 of the content. */
  uploads: Record<string, UploadRecord>;
  queries: {
    status: number;
    result: number;
    byTask: Record<string, { status: number; result: number }>;
  };
  tasks: {
    total: number;
    /** Tasks taken back from `taskFile` on start (accepted by an earlier process; not in `total`). */
    restored: number;
    /** Highest number of tasks holding a running slot at once, over all keys. */
    maxConcurrentRunning: number;
    /** Highest number of tasks submitted and not yet finished (queued included) at once, over all keys. */
    maxInFlight: number;
    /** The same two, per key fingerprint. */
    byKey: Record<string, { total: number; maxConcurrentRunning: number; maxInFlight: number }>;
  };
  /** 429s sent, per endpoint (limits, capacity rejections and injected faults alike). */
  rateLimited: Record<Endpoint, number>;
  /** Faults injected, per kind, and per `endpoint:kind`. */
  faults: { byKind: Partial<Record<FaultKind, number>>; byEndpoint: Record<string, number> };
  /** Every result video served at least once. */
  videos: VideoRecord[];
  requests: {
    /** Request counts per endpoint (`upload`, `submit`, `status`, `result`, `download`, `files`, `ledger`, `other`). */
    counts: Record<string, number>;
    /** The most recent requests, oldest first (see `requestLogLimit`). */
    log: RequestLogEntry[];
    /** Entries dropped from the front of `log`. */
    dropped: number;
  };
}

export interface Simulator {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The seed in use (the given one, or the random one chosen). */
  readonly seed: number;
  /** A snapshot of the ledger. */
  ledger(): Ledger;
  /**
   * Change options while running: faults, limits, timings, responses, patterns. Groups merge field by field;
   * `faults` is replaced as a whole (and the new rules' counts start at zero). `port`, `host` and `seed` cannot
   * change. Tasks already submitted keep their timings.
   */
  update(partial: Partial<SimulatorOptions>): void;
  /** Stops listening and closes every connection, keep-alive ones included. */
  close(): Promise<void>;
}
