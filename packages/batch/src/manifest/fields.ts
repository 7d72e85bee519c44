import {
  coerceTaskField,
  DEFAULT_MODEL,
  REQUIRED_TASK_FIELDS,
  showValue,
  TASK_FIELDS,
  type TaskField,
} from '@flf2v/core/rules';
import {
  type Defaults,
  type FieldTarget,
  type LoadContext,
  markInvalid,
  type TaskDraft,
} from './_context.js';
import { didYouMean } from './_suggest.js';
import { checkId } from './ids.js';
import { FIT_LAST, type FitLast } from './prepare/options.js';
import { checkTake } from './take.js';
import type { SourceLocation, TaskParams } from './types.js';

/** Shown in every plan; a job's `defaults:` and each task override them. */
export const BUILTIN_DEFAULTS: Readonly<Partial<TaskParams>> = Object.freeze({
  selected_model: DEFAULT_MODEL,
  resolution: '720p',
  duration: 5,
  number_of_videos: 1,
});

/**
 * flf2v's own task fields beside the API's, never sent: how the frames are prepared (`fit_last`), and which
 * generation of the shot the task is (`take`, see `take.ts`).
 */
export const OWN_FIELDS = ['fit_last', 'take'] as const;
export type ManifestField = TaskField | (typeof OWN_FIELDS)[number];

/** What a task (a YAML entry or a CSV column) may set: the API's field names, `fit_last`, `take`, and `id`. */
export const TASK_KEYS: readonly string[] = ['id', ...TASK_FIELDS, ...OWN_FIELDS];

/** Fields that name one task and so cannot be defaults, with why. */
export const NOT_DEFAULTS: Readonly<Record<string, string>> = {
  id: 'id cannot be a default: an id names one task',
  take: 'take cannot be a default: a take is one generation of one shot. Set it on the task, or make a new take with flf2v run MANIFEST --retake ID',
};

/** Keys people bring over from the API's request body, with what to do instead. */
const HINTS: Record<string, string> = {
  input: 'write the input fields (image, last_image, prompt, …) directly on the task',
  task_type: 'flf2v always sends "flf2video"; remove it',
  async: 'tasks are always submitted asynchronously; remove it',
};

/** A field a task may set (anything but `id`); `defaults:` may set them but `NOT_DEFAULTS`. */
export function isTaskField(key: string): key is ManifestField {
  return (TASK_FIELDS as readonly string[]).includes(key) || (OWN_FIELDS as readonly string[]).includes(key);
}

/** `unknown field "promt" (did you mean "prompt"?)`, with a hint for the API's own wrapper keys. */
export function unknownKeyText(what: string, key: string, allowed: readonly string[]): string {
  const hint = HINTS[key];
  if (hint !== undefined) return `unknown ${what} ${JSON.stringify(key)}: ${hint}`;
  return `unknown ${what} ${JSON.stringify(key)}${didYouMean(key, allowed)}; expected one of: ${allowed.join(', ')}`;
}

/**
 * A copy with every field present (unset ones undefined), always in the same order. One object shape for all
 * tasks: spread copies gave each of 100,000 tasks its own hidden class and doubled the memory a plan takes.
 */
export function copyParams(p: Partial<TaskParams>): Partial<TaskParams> {
  return {
    selected_model: p.selected_model,
    prompt: p.prompt,
    negative_prompt: p.negative_prompt,
    resolution: p.resolution,
    aspect_ratio: p.aspect_ratio,
    duration: p.duration,
    number_of_videos: p.number_of_videos,
    need_expand_prompt: p.need_expand_prompt,
  };
}

/** Only the fields that are set (for showing defaults). */
export function setParams(p: Partial<TaskParams>): Partial<TaskParams> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
}

export function builtinDefaults(): Defaults {
  return { params: copyParams(BUILTIN_DEFAULTS) };
}

export function newDraft(ctx: LoadContext, defaults: Defaults, source: SourceLocation): TaskDraft {
  const draft: TaskDraft = {
    id: undefined,
    key: '',
    params: copyParams(defaults.params),
    image: defaults.image,
    last_image: defaults.last_image,
    source,
    fitLast: defaults.fitLast,
    take: 1,
  };
  const locs = ctx.frameLocs.get(defaults);
  if (locs) ctx.frameLocs.set(draft, { ...locs });
  return draft;
}

/** Read a task's `id`; an unusable one is reported and makes the task invalid. */
export function setId(ctx: LoadContext, draft: TaskDraft, value: unknown, loc: SourceLocation): void {
  const result = checkId(value);
  if (result.ok) {
    draft.id = result.id;
    return;
  }
  ctx.sink.error('invalid-id', loc, `expected ${result.expected}, got ${showValue(value)}`);
  markInvalid(ctx, draft);
}

/** Values that repeat across rows: one string each instead of one per row. */
const REPEATED: ReadonlySet<string> = new Set([
  'selected_model',
  'resolution',
  'aspect_ratio',
  'negative_prompt',
]);
const INTERN_MAX = 1000;

function intern(ctx: LoadContext, value: string): string {
  const known = ctx.strings.get(value);
  if (known !== undefined) return known;
  if (ctx.strings.size < INTERN_MAX) ctx.strings.set(value, value);
  return value;
}

export interface SetFieldOptions {
  /** Directory that relative frame paths are resolved against. */
  baseDir: string;
  /** CSV cells: "5" is 5, "yes" is true. */
  fromText?: boolean;
  /**
   * `loc` is the CSV row; the column is added only when there is a problem (a location object per cell would be
   * a million allocations for a 100,000-row sheet).
   */
  rowLoc?: boolean;
}

/**
 * Check one field with the client's own rule (`coerceTaskField`) and store its normalized value; frames are
 * resolved to a shared entry of the frame store. A problem is reported at `loc` and marks the task invalid.
 */
export function setField(
  ctx: LoadContext,
  draft: FieldTarget,
  field: ManifestField,
  value: unknown,
  loc: SourceLocation,
  options: SetFieldOptions,
): boolean {
  if (field === 'take') {
    // Only a task's: `defaults:` refuses it first (`NOT_DEFAULTS`).
    const take = checkTake(value);
    if (take.ok) {
      draft.take = take.take;
      return true;
    }
    ctx.sink.error('invalid-value', options.rowLoc ? { ...loc, field } : loc, take.message, draft.id);
    markInvalid(ctx, draft);
    return false;
  }
  if (field === 'fit_last') {
    const mode = typeof value === 'string' ? value.trim().toLowerCase() : value;
    if (typeof mode === 'string' && (FIT_LAST as readonly string[]).includes(mode)) {
      draft.fitLast = mode as FitLast;
      return true;
    }
    const text = `expected ${FIT_LAST.join(', ').replace(/, (?=[^,]*$)/, ' or ')}, got ${showValue(value)}`;
    ctx.sink.error('invalid-value', options.rowLoc ? { ...loc, field } : loc, text, draft.id);
    markInvalid(ctx, draft);
    return false;
  }
  const result = coerceTaskField(field, value, options.fromText ? ctx.coerce.text : ctx.coerce.typed);
  if (!result.ok) {
    ctx.sink.error('invalid-value', options.rowLoc ? { ...loc, field } : loc, result.issue.message, draft.id);
    markInvalid(ctx, draft);
    return false;
  }
  if (field === 'image' || field === 'last_image') {
    const entry = ctx.frames.resolve(result.value as string, options.baseDir);
    if (typeof entry === 'string') {
      ctx.sink.error('invalid-value', options.rowLoc ? { ...loc, field } : loc, entry, draft.id);
      markInvalid(ctx, draft);
      return false;
    }
    draft[field] = entry;
    const locs = ctx.frameLocs.get(draft);
    if (loc.row === undefined) ctx.frameLocs.set(draft, { ...locs, [field]: loc });
    else if (locs?.[field]) delete locs[field];
    return true;
  }
  const stored =
    REPEATED.has(field) && typeof result.value === 'string' ? intern(ctx, result.value) : result.value;
  (draft.params as Record<string, unknown>)[field] = stored;
  return true;
}

/**
 * Required fields still unset (neither the task nor the defaults gave one), leaving out those whose value was
 * already reported as invalid.
 */
export function missingFields(draft: FieldTarget, failed: readonly string[] = []): TaskField[] {
  return REQUIRED_TASK_FIELDS.filter((field) => {
    if (failed.includes(field)) return false;
    if (field === 'image' || field === 'last_image') return draft[field] === undefined;
    return (draft.params as Record<string, unknown>)[field] === undefined;
  });
}
