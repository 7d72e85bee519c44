import { type LoadContext, markInvalid, type TaskDraft } from './_context.js';
import type { FrameEntry } from './frames.js';
import { taskKey } from './identity.js';
import { derivedId, idFileKey } from './ids.js';
import { orientationText, swapsSides } from './image-check.js';
import { formatLocation } from './location.js';
import { takeStem } from './take.js';
import type { FrameRef, PlannedTask, SourceLocation, TaskParams } from './types.js';

/** Two frames' aspect ratios may differ by this factor at most (API.md: ratio of ratios within 0.8–1.25). */
export const ASPECT_TOLERANCE = { min: 0.8, max: 1.25 };

const FRAME_FIELDS = ['image', 'last_image'] as const;
const OTHER_USES_SHOWN = 3;

export interface Finalized {
  tasks: PlannedTask[];
  duplicateRows: number;
}

function frameLoc(ctx: LoadContext, draft: TaskDraft, field: 'image' | 'last_image'): SourceLocation {
  return ctx.frameLocs.get(draft)?.[field] ?? { ...draft.source, field };
}

/**
 * Once every frame is measured: report unusable frames (once each, where first used), mismatched aspect
 * ratios, identical tasks (folded into the first) and clashing ids; give unnamed tasks an id from their key.
 */
export function finalize(ctx: LoadContext, strict: boolean): Finalized {
  // Where else each unusable frame is used, so that one message points at every place to fix.
  const uses = new Map<FrameEntry, { count: number; others: SourceLocation[] }>();
  for (const draft of ctx.drafts) {
    for (const field of FRAME_FIELDS) {
      const entry = draft[field];
      if (!entry?.problem) continue;
      const use = uses.get(entry);
      if (!use) uses.set(entry, { count: 1, others: [] });
      else if (++use.count <= OTHER_USES_SHOWN + 1) use.others.push(frameLoc(ctx, draft, field));
    }
  }
  const firstByKey = new Map<string, TaskDraft>();
  const folded = new Set<TaskDraft>();
  for (const draft of ctx.drafts) {
    for (const field of FRAME_FIELDS) {
      const entry = draft[field];
      if (entry?.note) {
        // Said once, where the frame is first used.
        ctx.sink.warn(entry.note.kind, frameLoc(ctx, draft, field), entry.note.text, draft.id);
        delete entry.note;
      }
      if (!entry?.problem) continue;
      markInvalid(ctx, draft);
      if (entry.reported) continue;
      entry.reported = true;
      const use = uses.get(entry) ?? { count: 1, others: [] };
      const rest = use.count - 1 - use.others.length;
      const more =
        use.count > 1
          ? ` (also used at ${use.others.map(formatLocation).join('; ')}${rest > 0 ? ` and ${rest} more` : ''})`
          : '';
      ctx.sink.error(entry.problem.kind, frameLoc(ctx, draft, field), entry.problem.text + more, draft.id);
    }
    const image = draft.image?.ref;
    const last = draft.last_image?.ref;
    if (!image || !last) continue;
    checkAspect(ctx, draft, image, last, strict);
    if (ctx.invalid.has(draft)) continue;
    const key = taskKey(draft.params as TaskParams, image, last, draft.take);
    const first = firstByKey.get(key);
    if (first) {
      folded.add(draft);
      const dropped =
        draft.id !== undefined && draft.id !== first.id
          ? `; its id ${JSON.stringify(draft.id)} is not used`
          : '';
      const firstName = first.id === undefined ? '' : ` (task ${first.id})`;
      ctx.sink.warn(
        'duplicate-task',
        draft.source,
        `identical to ${formatLocation(first.source)}${firstName}: the same request, planned once${dropped}`,
        draft.id,
      );
      continue;
    }
    draft.key = key;
    firstByKey.set(key, draft);
  }
  firstByKey.clear();
  const ids = checkIds(ctx, folded);
  return { tasks: plannedTasks(ctx, folded, ids), duplicateRows: folded.size };
}

function checkAspect(
  ctx: LoadContext,
  draft: TaskDraft,
  image: FrameRef,
  last: FrameRef,
  strict: boolean,
): void {
  if (image.kind !== 'file' || last.kind !== 'file') return;
  const a = image.width / image.height;
  const b = last.width / last.height;
  const ratio = a / b;
  if (ratio >= ASPECT_TOLERANCE.min && ratio <= ASPECT_TOLERANCE.max) return;
  const text = `the two frames' aspect ratios differ too much: image ${image.display} is ${shape(image)}, last_image ${last.display} is ${shape(last)}; expected their ratio within ${ASPECT_TOLERANCE.min}–${ASPECT_TOLERANCE.max}, got ${ratio.toFixed(2)}`;
  ctx.sink.add(strict ? 'error' : 'warning', 'aspect-mismatch', draft.source, text, draft.id);
  if (strict) markInvalid(ctx, draft);
}

/** `1080×1920 (0.56)`, and how it is stored when that differs from how it is seen (and whether it is sent so). */
function shape(frame: Extract<FrameRef, { kind: 'file' }>): string {
  const seen = `${frame.width}×${frame.height} (${(frame.width / frame.height).toFixed(2)})`;
  const orientation = frame.orientation ?? frame.prepared?.source.orientation;
  if (orientation === undefined) return seen;
  const { width, height } = frame.prepared?.source ?? frame;
  const [w, h] = swapsSides(orientation) ? [height, width] : [width, height];
  const sent = frame.prepared ? '; sent upright' : '';
  return `${seen} as displayed (stored ${w}×${h}, ${orientationText(orientation)} by its EXIF orientation ${orientation}${sent})`;
}

/**
 * Ids are file names: unique, also ignoring case and Unicode normalization (macOS and Windows would write both
 * videos to one file). Rows of one id with different takes are that shot's takes; the file name is the take's
 * (`takeStem`), so `a~take2` and take 2 of `a` clash too. Returns the names in use by `idFileKey`.
 */
function checkIds(ctx: LoadContext, folded: ReadonlySet<TaskDraft>): Map<string, TaskDraft> {
  const owners = new Map<string, TaskDraft>();
  for (const draft of ctx.drafts) {
    if (draft.id === undefined || folded.has(draft)) continue;
    const fileKey = idFileKey(takeStem(draft.id, draft.take));
    const owner = owners.get(fileKey);
    if (!owner) {
      owners.set(fileKey, draft);
      continue;
    }
    const loc =
      draft.source.row === undefined
        ? { ...draft.source, path: `${draft.source.path}.id` }
        : { ...draft.source, field: 'id' };
    ctx.sink.error('duplicate-id', loc, duplicateText(owner, draft), draft.id);
    markInvalid(ctx, draft);
  }
  return owners;
}

function duplicateText(owner: TaskDraft, draft: TaskDraft): string {
  const first = `first used at ${formatLocation(owner.source)}`;
  if (owner.take === draft.take && draft.take === 1) {
    return `expected a unique id, got ${JSON.stringify(draft.id)} again: ${first}${sameFileReason(owner.id!, draft.id!)}`;
  }
  const named = (d: TaskDraft) => JSON.stringify(takeStem(d.id!, d.take));
  const what = (d: TaskDraft) =>
    d.take > 1 ? `take ${d.take} of ${JSON.stringify(d.id)}` : JSON.stringify(d.id);
  if (owner.take === draft.take) {
    return `expected each take of a shot once, got ${what(draft)} again: ${first}${sameFileReason(owner.id!, draft.id!)}`;
  }
  return `expected ids whose videos have their own names, got ${what(draft)}: its video would be named ${named(draft)}, like ${what(owner)} ${first}`;
}

/** Why two different spellings are one id. */
function sameFileReason(first: string, again: string): string {
  if (first === again) return '';
  const how =
    first.normalize('NFC') === again.normalize('NFC')
      ? 'is written with other Unicode code points for the same letters (NFC/NFD)'
      : first.toLowerCase() === again.toLowerCase()
        ? 'differs only in case'
        : 'differs only in case and Unicode form (NFC/NFD)';
  return ` (${JSON.stringify(first)} ${how}: their videos would overwrite each other on macOS and Windows)`;
}

/**
 * Each valid draft becomes its planned task in place (same fields, same order). `taken`: the ids in use, by
 * `idFileKey`; derived ids are added to it.
 */
function plannedTasks(
  ctx: LoadContext,
  folded: ReadonlySet<TaskDraft>,
  taken: Map<string, unknown>,
): PlannedTask[] {
  const tasks: PlannedTask[] = [];
  for (const draft of ctx.drafts) {
    if (draft.key === '' || ctx.invalid.has(draft) || folded.has(draft)) continue;
    if (draft.id === undefined) {
      // Every take of an unnamed shot is named after its first take, so that they are one shot's takes.
      const first =
        draft.take > 1
          ? taskKey(draft.params as TaskParams, draft.image!.ref!, draft.last_image!.ref!)
          : draft.key;
      let chars = 12;
      do draft.id = derivedId(first, chars++);
      while (taken.has(idFileKey(takeStem(draft.id, draft.take))));
      taken.set(idFileKey(takeStem(draft.id, draft.take)), true);
    }
    const task = draft as unknown as PlannedTask;
    task.image = draft.image!.ref!;
    task.last_image = draft.last_image!.ref!;
    tasks.push(task);
  }
  return tasks;
}
