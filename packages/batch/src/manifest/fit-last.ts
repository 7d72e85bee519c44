import { type LoadContext, markInvalid, type TaskDraft } from './_context.js';
import type { FrameEntry } from './frames.js';
import { type MeasureSettings, readSource } from './measure.js';
import { type FrameOutcome, prepareFrame, reasonsToPrepare } from './prepare/frame.js';
import type { SourceLocation } from './types.js';

/**
 * `fit_last: cover | contain`: once every frame is measured, a task whose last frame is not its first frame's
 * size gets a last frame made to that size (from the last frame's own source, so it is prepared once, not
 * twice). A pair used by many tasks is made once; the result is a frame entry of its own, since the same last
 * frame may follow first frames of different sizes.
 */
export async function fitLastFrames(ctx: LoadContext, settings: () => MeasureSettings): Promise<void> {
  const made = new Map<string, Promise<FrameEntry>>();
  for (const draft of ctx.drafts) {
    const mode = draft.fitLast;
    if (mode === undefined || mode === 'none' || ctx.invalid.has(draft)) continue;
    const first = draft.image?.ref;
    const last = draft.last_image?.ref;
    if (!first || !last) continue; // a frame with a problem: reported where it is written
    if (first.kind !== 'file' || last.kind !== 'file') {
      fail(
        ctx,
        draft,
        `fit_last: ${mode} needs both frames as files, to know their sizes; a URL is sent as it is`,
      );
      continue;
    }
    if (!settings().prepare.enabled) {
      fail(
        ctx,
        draft,
        `fit_last: ${mode} makes a new last frame, and frame preparation is off (--no-prepare or prepare: false)`,
      );
      continue;
    }
    if (first.width === last.width && first.height === last.height) continue;
    const exact = { width: first.width, height: first.height, mode };
    const source = last.prepared?.source ?? last;
    const key = `${source.sha256}:${exact.width}x${exact.height}:${mode}`;
    let entry = made.get(key);
    if (!entry) {
      entry = fitted(source.path, last.display, exact, settings());
      made.set(key, entry);
    }
    draft.last_image = await entry;
  }
}

async function fitted(
  path: string,
  display: string,
  exact: { width: number; height: number; mode: 'cover' | 'contain' },
  settings: MeasureSettings,
): Promise<FrameEntry> {
  const read = await readSource(path, display, settings);
  const outcome: FrameOutcome =
    'problem' in read
      ? read
      : await prepareFrame(
          read.source,
          reasonsToPrepare(read.source, settings.prepare, exact),
          {
            options: settings.prepare,
            cache: settings.cache,
          },
          exact,
        );
  return 'ref' in outcome ? { display, ref: outcome.ref } : { display, problem: outcome.problem };
}

function fail(ctx: LoadContext, draft: TaskDraft, text: string): void {
  const loc: SourceLocation =
    draft.source.row === undefined
      ? { ...draft.source, path: `${draft.source.path}.fit_last` }
      : { ...draft.source, field: 'fit_last' };
  ctx.sink.error('invalid-value', loc, text, draft.id);
  markInvalid(ctx, draft);
}
