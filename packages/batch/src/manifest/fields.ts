import {
  coerceTaskField,
  DEFAULT_MODEL,
  REQUIRED_TASK_FIELDS,
  showValue,
  TASK_FIELDS,
  type TaskField,
} from '@flf2v/core';
import type { Defaults, LoadContext, TaskDraft } from './_context.js';
import { didYouMean } from './_suggest.js';
import { checkId } from './ids.js';
import type { SourceLocation, TaskParams } from './types.js';

/** Shown in every plan; a job's `defaults:` and each task override them. */
export const BUILTIN_DEFAULTS: Readonly<Partial<TaskParams>> = Object.freeze({
  selected_model: DEFAULT_MODEL,
  resolution: '720p',
  duration: 5,
  number_of_videos: 1,
});

/** What a task (a YAML entry or a CSV column) may set: the API's field names plus `id`. */
export const TASK_KEYS: readonly string[] = ['id', ...TASK_FIELDS];

/** Keys people bring over from the API's request body, with what to do instead. */
const HINTS: Record<string, string> = {
  input: 'write the input fields (image, last_image, prompt, …) directly on the task',
  task_type: 'flf2v always sends "flf2video"; remove it',
  async: 'tasks are always submitted asynchronously; remove it',
};

export function isTaskField(key: string): key is TaskField {
  return (TASK_FIELDS as readonly string[]).includes(key);
}

/** `unknown field "promt" (did you mean "prompt"?)`, with a hint for the API's own wrapper keys. */
export function unknownKeyText(what: string, key: string, allowed: readonly string[]): string {
  const hint = HINTS[key];
  if (hint !== undefined) return `unknown ${what} ${JSON.stringify(key)}: ${hint}`;
  return `unknown ${what} ${JSON.stringify(key)}${didYouMean(key, allowed)}; expected one of: ${allowed.join(', ')}`;
}

export function builtinDefaults(): Defaults {
  return { params: { ...BUILTIN_DEFAULTS } };
}

export function newDraft(defaults: Defaults, source: SourceLocation): TaskDraft {
  const draft: TaskDraft = { source, params: { ...defaults.params }, invalid: false };
  if (defaults.image) draft.image = defaults.image;
  if (defaults.last_image) draft.last_image = defaults.last_image;
  if (defaults.frameLocs) draft.frameLocs = { ...defaults.frameLocs };
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
  draft.invalid = true;
}

export interface SetFieldOptions {
  /** Directory that relative frame paths are resolved against. */
  baseDir: string;
  /** CSV cells: "5" is 5, "yes" is true. */
  fromText?: boolean;
}

/**
 * Check one field with the client's own rule (`coerceTaskField`) and store its normalized value; frames are
 * resolved to a shared entry of the frame store. A problem is reported at `loc` and marks the task invalid.
 */
export function setField(
  ctx: LoadContext,
  draft: Pick<TaskDraft, 'id' | 'params' | 'image' | 'last_image' | 'frameLocs' | 'invalid'>,
  field: TaskField,
  value: unknown,
  loc: SourceLocation,
  options: SetFieldOptions,
): boolean {
  const result = coerceTaskField(field, value, { fromText: options.fromText ?? false, rules: ctx.rules });
  if (!result.ok) {
    ctx.sink.error('invalid-value', loc, result.issue.message, draft.id);
    draft.invalid = true;
    return false;
  }
  if (field === 'image' || field === 'last_image') {
    const entry = ctx.frames.resolve(result.value as string, options.baseDir);
    if (typeof entry === 'string') {
      ctx.sink.error('invalid-value', loc, entry, draft.id);
      draft.invalid = true;
      return false;
    }
    draft[field] = entry;
    if (loc.row === undefined) draft.frameLocs = { ...draft.frameLocs, [field]: loc };
    else if (draft.frameLocs?.[field]) delete draft.frameLocs[field];
    return true;
  }
  (draft.params as Record<string, unknown>)[field] = result.value;
  return true;
}

/**
 * Required fields still unset (neither the task nor the defaults gave one), leaving out those whose value was
 * already reported as invalid.
 */
export function missingFields(draft: TaskDraft, failed: readonly string[] = []): TaskField[] {
  return REQUIRED_TASK_FIELDS.filter((field) => {
    if (failed.includes(field)) return false;
    if (field === 'image' || field === 'last_image') return draft[field] === undefined;
    return (draft.params as Record<string, unknown>)[field] === undefined;
  });
}
