import type { LoadContext, TaskDraft } from './_context.js';
import type { FrameEntry } from './frames.js';
import { taskKey } from './identity.js';
import { derivedId } from './ids.js';
import { formatLocation } from './location.js';
import type { FrameRef, PlannedTask, SourceLocation, TaskParams } from './types.js';

/** Two frames' aspect ratios may differ by this factor at most (API.md: ratio of ratios within 0.8–1.25). */
export const ASPECT_TOLERANCE = { min: 0.8, max: 1.25 };

const FRAME_FIELDS = ['image', 'last_image'] as const;
const OTHER_USES_SHOWN = 3;

export interface Finalized {
  tasks: PlannedTask[];
  duplicateRows: number;
}

function frameLoc(draft: TaskDraft, field: 'image' | 'last_image'): SourceLocation {
  return draft.frameLocs?.[field] ?? { ...draft.source, field };
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
      else if (++use.count <= OTHER_USES_SHOWN + 1) use.others.push(frameLoc(draft, field));
    }
  }
  const firstByKey = new Map<string, TaskDraft>();
  let duplicateRows = 0;
  for (const draft of ctx.drafts) {
    for (const field of FRAME_FIELDS) {
      const entry = draft[field];
      if (!entry?.problem) continue;
      draft.invalid = true;
      if (entry.reported) continue;
      entry.reported = true;
      const use = uses.get(entry) ?? { count: 1, others: [] };
      const rest = use.count - 1 - use.others.length;
      const more =
        use.count > 1
          ? ` (also used at ${use.others.map(formatLocation).join('; ')}${rest > 0 ? ` and ${rest} more` : ''})`
          : '';
      ctx.sink.error(entry.problem.kind, frameLoc(draft, field), entry.problem.text + more, draft.id);
    }
    const image = draft.image?.ref;
    const last = draft.last_image?.ref;
    if (!image || !last) continue;
    checkAspect(ctx, draft, image, last, strict);
    if (draft.invalid) continue;
    const key = taskKey(draft.params as TaskParams, image, last);
    const first = firstByKey.get(key);
    if (first) {
      draft.folded = true;
      duplicateRows++;
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
  checkIds(ctx);
  return { tasks: plannedTasks(ctx.drafts), duplicateRows };
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
  const text = `the two frames' aspect ratios differ too much: image ${image.display} is ${image.width}×${image.height} (${a.toFixed(2)}), last_image ${last.display} is ${last.width}×${last.height} (${b.toFixed(2)}); expected their ratio within ${ASPECT_TOLERANCE.min}–${ASPECT_TOLERANCE.max}, got ${ratio.toFixed(2)}`;
  ctx.sink.add(strict ? 'error' : 'warning', 'aspect-mismatch', draft.source, text, draft.id);
  if (strict) draft.invalid = true;
}

/** Ids are file names: unique, and unique ignoring case (macOS and Windows would overwrite one with the other). */
function checkIds(ctx: LoadContext): void {
  const owners = new Map<string, TaskDraft>();
  for (const draft of ctx.drafts) {
    if (draft.id === undefined || draft.folded) continue;
    const folded = draft.id.toLowerCase();
    const owner = owners.get(folded);
    if (!owner) {
      owners.set(folded, draft);
      continue;
    }
    const how =
      owner.id === draft.id
        ? ''
        : ` (${JSON.stringify(owner.id)} differs only in case: their videos would overwrite each other on macOS and Windows)`;
    const loc =
      draft.source.row === undefined
        ? { ...draft.source, path: `${draft.source.path}.id` }
        : { ...draft.source, field: 'id' };
    ctx.sink.error(
      'duplicate-id',
      loc,
      `expected a unique id, got ${JSON.stringify(draft.id)} again: first used at ${formatLocation(owner.source)}${how}`,
      draft.id,
    );
    draft.invalid = true;
  }
}

function plannedTasks(drafts: TaskDraft[]): PlannedTask[] {
  const taken = new Set<string>();
  for (const draft of drafts) if (draft.id !== undefined) taken.add(draft.id.toLowerCase());
  const tasks: PlannedTask[] = [];
  for (const draft of drafts) {
    if (draft.invalid || draft.folded || draft.key === undefined) continue;
    let id = draft.id;
    if (id === undefined) {
      let chars = 12;
      do id = derivedId(draft.key, chars++);
      while (taken.has(id));
      taken.add(id);
    }
    tasks.push({
      id,
      key: draft.key,
      params: draft.params as TaskParams,
      image: draft.image!.ref!,
      last_image: draft.last_image!.ref!,
      source: draft.source,
    });
  }
  return tasks;
}
