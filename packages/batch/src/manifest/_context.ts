import type { RequestRules } from '@flf2v/core';
import type { FrameEntry, FrameStore } from './frames.js';
import type { ProblemSink } from './problems.js';
import type { SourceLocation, TaskParams } from './types.js';

/** A task as a loader reads it, before frames are measured and its key is known. Kept lean: 100,000 of them. */
export interface TaskDraft {
  /** The user's id, when given and valid. */
  id?: string;
  /** Where the task is: a CSV row or a YAML node. */
  source: SourceLocation;
  /** Defaults applied, then the task's own values (shared with the planned task: not copied again). */
  params: Partial<TaskParams>;
  image?: FrameEntry;
  last_image?: FrameEntry;
  /** Where each frame was written, when that is not simply `source` plus the field name (YAML, defaults). */
  frameLocs?: { image?: SourceLocation; last_image?: SourceLocation };
  /** A problem was already reported for this task: it will not be planned. */
  invalid: boolean;
  /** Set once frames are measured. */
  key?: string;
  /** Identical to an earlier task and folded into it. */
  folded?: boolean;
}

/** The job's defaults: built-in ones, then `defaults:` (frames included, resolved against the job file). */
export type Defaults = Omit<TaskDraft, 'id' | 'source' | 'invalid' | 'key' | 'folded'>;

/** What every loader shares while reading one manifest. */
export interface LoadContext {
  cwd: string;
  sink: ProblemSink;
  frames: FrameStore;
  rules: Partial<RequestRules>;
  /** `--encoding`: wins over a job file's `tasks_csv: { encoding }`. */
  encoding?: string;
  drafts: TaskDraft[];
  /** sha256 of each file read (the job file, then its CSV), for `Plan.manifest.hash`. */
  fileHashes: string[];
}
