import type { Duration, Resolution } from '@flf2v/core/rules';
import type { SourceFormat } from './prepare/formats.js';
import type { PrepareOptions } from './prepare/options.js';

/**
 * What a manifest turns into: a validated plan of tasks. This is the contract between the manifest loaders
 * (YAML job, bare CSV, storyboard) and everything that consumes a plan (validate, run, schedule).
 */

/** Where something is in the user's files. Printed as `file:line:column` (YAML) or `file row N, column C` (CSV). */
export interface SourceLocation {
  /** Path as the user would recognise it (relative to the working directory when possible). */
  file: string;
  /** YAML: 1-based line and column. */
  line?: number;
  column?: number;
  /** CSV: the spreadsheet row number (the header is row 1, the first data row is row 2). */
  row?: number;
  /** The field / column name concerned. */
  field?: string;
  /** YAML: the key path of the node, e.g. `tasks[3].duration` or `storyboard.frames[2]`. */
  path?: string;
}

export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  /**
   * A stable kind, e.g. `unknown-field`, `missing-field`, `invalid-value`, `duplicate-id`, `frame-missing`,
   * `frame-format`, `frame-too-large`, `aspect-mismatch`, `duplicate-task`, `yaml-syntax`, `csv-syntax`,
   * `encoding`. The full list is `PROBLEM_KINDS` (problems.ts).
   */
  kind: string;
  /** The full human message, location included. */
  message: string;
  location: SourceLocation;
  /** The task's `id` when it has one. */
  taskId?: string;
}

export type FrameRef =
  | {
      kind: 'file';
      /** Absolute path. */
      path: string;
      /** As written in the manifest. */
      display: string;
      sha256: string;
      bytes: number;
      format: 'png' | 'jpeg';
      /** As displayed, px: after the EXIF orientation, so a phone's portrait photo is taller than wide. */
      width: number;
      height: number;
      /** EXIF orientation 2–8 when the picture is stored turned or mirrored; absent when stored upright. */
      orientation?: number;
      /**
       * Set when what is sent was made from another file (converted, turned upright, fitted): then `path`,
       * `sha256`, `bytes`, `format`, `width` and `height` describe the prepared file, and this the source.
       */
      prepared?: PreparedFrom;
    }
  | { kind: 'url'; url: string };

export interface PreparedFrom {
  source: {
    /** Absolute path of the file the manifest names. */
    path: string;
    sha256: string;
    format: SourceFormat;
    bytes: number;
    /** As displayed, px. */
    width: number;
    height: number;
    /** EXIF orientation 2–8 when the source was stored turned or mirrored (what is sent is upright). */
    orientation?: number;
  };
  /** What was done, in order, for people: `converted from WebP`, `turned upright (…)`, `scaled down …`. */
  steps: string[];
}

/** The request parameters of a task, defaults applied, values normalized (everything but the two frames). */
export interface TaskParams {
  selected_model: string;
  prompt: string;
  negative_prompt?: string;
  resolution: Resolution;
  aspect_ratio?: string;
  duration: Duration;
  number_of_videos: number;
  need_expand_prompt?: boolean;
}

export interface PlannedTask {
  /** The user's name for the task, unique in the plan (derived from the key when the manifest has none). */
  id: string;
  /** Identity: sha256 over what is sent (model, each frame's content hash or URL, prompt, parameters). */
  key: string;
  params: TaskParams;
  image: FrameRef;
  last_image: FrameRef;
  source: SourceLocation;
  /** Which generation of the shot `id` this is, from 1 (absent: 1). Part of the key, never sent (`take.ts`). */
  take?: number;
  /**
   * Added by `flf2v run --retake` rather than written in the manifest: later sessions keep it in their plan for
   * as long as the row it was made from is unchanged (`run/takes.ts`).
   */
  retake?: true;
}

export interface JobLimits {
  submitRpm?: number;
  queryRpm?: number;
  maxInFlight?: number;
}

export interface JobConfig {
  /** Job name: `name:` in a YAML job, else the manifest's file name without extension. */
  name: string;
  /** `out:` as written (may contain `{date}` / `{time}`), resolved against the manifest's directory. */
  out?: string;
  limits: JobLimits;
  /** Cron expression (5 or 6 fields). */
  schedule?: string;
  timezone?: string;
  notify?: { webhook: string };
  /** `prepare:` as written: `false`, or limits for frame preparation. */
  prepare?: PrepareOptions;
}

export interface PlanSummary {
  tasks: number;
  videos: number;
  /** Seconds of video the plan would produce (duration × number_of_videos, summed). */
  seconds: number;
  /** Distinct local frame files (by content) to upload. */
  framesToUpload: number;
  /** Frames given as URLs (sent as they are). */
  urlFrames: number;
  /** Distinct frames (as sent) that were prepared: converted, turned upright or fitted. (Set by `loadPlan`.) */
  framesPrepared?: number;
  /** Frame preparation as applied (`--no-prepare` / `prepare:` / defaults). (Set by `loadPlan`.) */
  prepare?: { enabled: boolean; maxSidePx: number; maxBytes: number };
  /** Rows that were identical to an earlier row and were folded into it. */
  duplicateRows: number;
  errors: number;
  warnings: number;
  /** The built-in defaults merged with the job's `defaults:`, as applied. */
  defaults: Partial<TaskParams>;
}

export interface Plan {
  manifest: {
    /** Absolute path. */
    path: string;
    format: 'yaml' | 'csv';
    /** sha256 over the manifest file and every file it includes (tasks_csv). */
    hash: string;
  };
  job: JobConfig;
  tasks: PlannedTask[];
  problems: Problem[];
  summary: PlanSummary;
  /** The prepared frames the tasks send (each once, by content), with what was done to each. (Set by `loadPlan`.) */
  prepared?: PreparedFrameRef[];
}

/** A frame as sent that was made from another file. */
export type PreparedFrameRef = Extract<FrameRef, { kind: 'file' }> & { prepared: PreparedFrom };

export interface LoadOptions {
  /** Aspect-ratio mismatches between a task's two frames become errors instead of warnings. */
  strict?: boolean;
  /** Override the provider limits the frames are checked against. */
  limits?: { imageMaxBytes?: number; promptMaxChars?: number };
  /**
   * Force an encoding for CSV files (`utf-8`, `gbk`, …) instead of detecting it. Wins over a job file's
   * `tasks_csv: { encoding }`.
   */
  encoding?: string;
  /** Directory that displayed paths are made relative to. @default process.cwd() */
  cwd?: string;
  /**
   * Frame preparation (convert, orient, fit); wins over a job's `prepare:`. `{ enabled: false }` is the CLI's
   * `--no-prepare`. See `PrepareOptions` for the defaults.
   */
  prepare?: PrepareOptions;
}
