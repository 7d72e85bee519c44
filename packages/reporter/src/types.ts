/**
 * The plain run-summary model every report is rendered from. It knows nothing about manifests or journals:
 * @flf2v/batch maps its state into it. `report.json` is this object serialized (schemaVersion 1; see
 * `assets/report.schema.json`). Times are ISO-8601 strings; paths are relative to the run directory.
 */

export type TaskOutcome = 'succeeded' | 'failed' | 'pending' | 'unknown';

export interface RunSummary {
  schemaVersion: 1;
  run: RunMeta;
  totals: Totals;
  /** A storyboard's film, once `flf2v film` has joined its shots. */
  film?: FilmSummary;
  tasks: TaskSummary[];
}

/** The shots of a storyboard joined into one video (`flf2v film`). */
export interface FilmSummary {
  /** Relative to the run directory (absolute when the film was written outside it), e.g. `film.mp4`. */
  path: string;
  /** When the film was made. */
  createdAt: string;
  /** Seconds, as ffprobe reads the film. */
  duration: number;
  bytes: number;
  sha256: string;
  /** `copy`: the clips joined as they are; `reencode`: encoded again to the first clip's format. */
  method: 'copy' | 'reencode';
  /**
   * The shots in film order: the task, its take (absent: 1), the video used (relative to the run directory), its
   * seconds.
   */
  shots: { id: string; key: string; take?: number; path: string; sha256: string; duration: number }[];
}

export interface Totals {
  tasks: number;
  succeeded: number;
  failed: number;
  pending: number;
  unknown: number;
}

export interface RunMeta {
  /** Job name (from the manifest, or its file name). */
  name: string;
  /** Manifest path as given on the command line. */
  manifest: string;
  /** The run directory (absolute). */
  outDir: string;
  toolVersion: string;
  startedAt: string;
  /** Set once the run has ended (finished or interrupted). */
  finishedAt?: string;
  /** When this summary was produced: reports are refreshed while a run is going. */
  updatedAt: string;
  state: 'running' | 'finished' | 'interrupted';
  /** The limits in force: undefined means "not given; adapting to 429s". */
  limits: { submitRpm?: number; queryRpm?: number; maxInFlight?: number };
  /** Requests sent to the provider by call class (retries included). */
  requests: { upload: number; submit: number; status: number; result: number; download: number };
  /** Answers that were HTTP 429. */
  rateLimited: number;
  /** Requests re-sent by the retry policy. */
  retries: number;
  /** Tasks of earlier runs of this directory that are no longer in the manifest: left alone, listed here. */
  removedTasks?: number;
  /** The error that stopped the run before its tasks were done: a wrong key, a full disk, damaged state. */
  stoppedBy?: { code: string; message: string; retryable: boolean };
}

export interface TaskTimings {
  /** Planned into this run directory. */
  queuedAt?: string;
  submittedAt?: string;
  completedAt?: string;
  downloadedAt?: string;
}

export interface VideoFile {
  /** Relative to the run directory, e.g. `videos/shot-01.mp4`. */
  path: string;
  /** The provider URL it was downloaded from (query string stripped: signed URLs are credentials). */
  url: string;
  sha256: string;
  bytes: number;
}

export interface TaskError {
  code: string;
  message: string;
  retryable: boolean;
}

export interface TaskRequest {
  selected_model: string;
  prompt: string;
  negative_prompt?: string;
  resolution: string;
  duration: number;
  number_of_videos: number;
  need_expand_prompt?: boolean;
  /** The frame as the manifest named it (path relative to the manifest, or URL). */
  image: string;
  last_image: string;
}

export interface TaskSummary {
  /** The user's name for the task (unique in the manifest). */
  id: string;
  /** Identity: a hash of what is sent, and of the take. */
  key: string;
  /**
   * Which generation of the shot `id` this task is, from 1: tasks with one id and different takes are one
   * shot's takes. Absent in reports written before takes existed: 1.
   */
  take?: number;
  /** This take is its shot's chosen one, the one its film uses (take 1 until another is chosen). Absent: true. */
  chosen?: boolean;
  status: TaskOutcome;
  /**
   * Finer detail than `status`, for people: planned, uploading, submitting, queued, running, downloading,
   * done, failed, unknown, stalled, removed.
   */
  stage?: string;
  /** The provider's task id, once known. */
  taskId?: string;
  /** Provider calls made for this task (all classes, retries included). */
  attempts: number;
  /** How many times the task was POSTed to the provider. More than 1 only with --resubmit-unknown/--retry-failed. */
  submissions: number;
  timings: TaskTimings;
  videos: VideoFile[];
  error?: TaskError;
  request: TaskRequest;
  /**
   * Thumbnails for the HTML report: paths relative to the run directory (or http(s) URLs) of the two frames.
   */
  frames?: { image?: string; last_image?: string };
  /** Progress 0–100 reported by the provider while running. */
  progress?: number;
}
