import type { CoerceOptions, RequestRules } from '@flf2v/core/rules';
import type { FrameEntry, FrameStore } from './frames.js';
import type { FileLocator } from './locate.js';
import type { FitLast } from './prepare/options.js';
import type { ProblemSink } from './problems.js';
import type { SourceLocation, TaskParams } from './types.js';

/**
 * A task as a loader reads it. It has the planned task's fields in the same order and becomes that task once
 * its frames are measured (frame entries swapped for their refs, key and id set): a 100,000-row plan is not
 * built twice. What only some drafts need (invalid, frame locations) lives in side tables of the context.
 */
export interface TaskDraft {
  /** The user's id, when given and valid. */
  id: string | undefined;
  /** Empty until frames are measured. */
  key: string;
  /** Defaults applied, then the task's own values. */
  params: Partial<TaskParams>;
  image: FrameEntry | undefined;
  last_image: FrameEntry | undefined;
  /** Where the task is: a CSV row or a YAML node. */
  source: SourceLocation;
  /** `fit_last`, when the task or the defaults set it. */
  fitLast: FitLast | undefined;
  /** Which generation of the shot (`take.ts`): 1 unless the task says. */
  take: number;
}

/** Where each frame was written, when that is not simply the task's `source` plus the field (YAML, defaults). */
export type FrameLocs = { image?: SourceLocation; last_image?: SourceLocation };

/** The job's defaults: built-in ones, then `defaults:` (frames included, resolved against the job file). */
export type Defaults = Pick<TaskDraft, 'params'> &
  Partial<Pick<TaskDraft, 'image' | 'last_image' | 'fitLast'>>;

/** What fields are set on: a task, or the job's defaults. */
export type FieldTarget = Defaults & { id?: string | undefined; take?: number };

/** What every loader shares while reading one manifest. */
export interface LoadContext {
  cwd: string;
  sink: ProblemSink;
  frames: FrameStore;
  /** Finds files written as another platform spells paths; shared by frames and `tasks_csv:`. */
  locator: FileLocator;
  /** The provider's limit on a frame as sent, bytes (`LoadOptions.limits.imageMaxBytes`). */
  imageMaxBytes: number;
  rules: Partial<RequestRules>;
  /** `--encoding`: wins over a job file's `tasks_csv: { encoding }`. */
  encoding?: string;
  drafts: TaskDraft[];
  /** sha256 of each file read (the job file, then its CSV), for `Plan.manifest.hash`. */
  fileHashes: string[];
  /** `coerceTaskField` options, made once: CSV cells (text) and YAML values (typed). */
  coerce: { text: CoerceOptions; typed: CoerceOptions };
  /** Interned field values that repeat across rows (model, resolution, negative prompt). */
  strings: Map<string, string>;
  /** Drafts with a reported problem: they will not be planned. */
  invalid: Set<object>;
  frameLocs: Map<object, FrameLocs>;
}

export function markInvalid(ctx: LoadContext, target: object): void {
  ctx.invalid.add(target);
}
