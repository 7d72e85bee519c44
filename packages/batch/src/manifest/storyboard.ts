import { coerceTaskField, TASK_FIELDS } from '@flf2v/core/rules';
import type { Node } from 'yaml';
import { type Defaults, type LoadContext, markInvalid, type TaskDraft } from './_context.js';
import { suggest } from './_suggest.js';
import { kindOf, type YamlEntry, type YamlFile } from './_yaml.js';
import { missingFields, newDraft, OWN_FIELDS, unknownKeyText } from './fields.js';
import type { FrameEntry } from './frames.js';
import { checkId, sequenceId } from './ids.js';
import type { SourceLocation } from './types.js';
import { readYamlId, setYamlField } from './yaml-tasks.js';

/**
 * A storyboard is an ordered list of frames; the prompt on frame i describes the move from frame i to frame
 * i+1, so N frames make N-1 tasks: f0→f1, f1→f2, … Any other task field on frame i (duration, negative_prompt,
 * …) applies to that one transition, and `id` names it; otherwise it is `<id_prefix>-01`, `-02`, …
 *
 * A "list of shots", each with its own first and last frame, needs no form of its own: that is `tasks:`.
 */

const STORYBOARD_KEYS = ['frames', 'id_prefix'];
/** What frame i may set besides its image: the transition i→i+1's fields. */
const TRANSITION_FIELDS = [...TASK_FIELDS.filter((f) => f !== 'image' && f !== 'last_image'), ...OWN_FIELDS];
const FRAME_KEYS = ['image', 'id', ...TRANSITION_FIELDS];

interface Frame {
  node: Node | null;
  path: string;
  loc: SourceLocation;
  entries: YamlEntry[];
  /** Undefined when missing or unusable (already reported). */
  image?: FrameEntry;
  imageLoc: SourceLocation;
}

export function readStoryboard(
  ctx: LoadContext,
  yaml: YamlFile,
  entry: YamlEntry,
  defaults: Defaults,
  jobDir: string,
  jobName: string,
): void {
  const { sink } = ctx;
  const boardLoc = yaml.at(entry.value, 'storyboard', entry.keyNode);
  if (!yaml.isMap(entry.value)) {
    sink.error(
      'invalid-value',
      boardLoc,
      `expected a mapping with frames: (a list of frames), got ${kindOf(yaml, entry.value)}`,
    );
    return;
  }
  let prefix = jobName;
  let framesEntry: YamlEntry | undefined;
  for (const item of yaml.entries(entry.value)) {
    const path = `storyboard.${item.key}`;
    if (!STORYBOARD_KEYS.includes(item.key)) {
      sink.error(
        'unknown-field',
        yaml.at(item.keyNode, path),
        unknownKeyText('field', item.key, STORYBOARD_KEYS),
      );
    } else if (item.key === 'frames') framesEntry = item;
    else {
      const check = checkId(yaml.text(item.value));
      if (check.ok) prefix = check.id;
      else
        sink.error(
          'invalid-id',
          yaml.at(item.value, path, item.keyNode),
          `expected ${check.expected}, got ${kindOf(yaml, item.value)}`,
        );
    }
  }
  if (!framesEntry || !yaml.isSeq(framesEntry.value)) {
    const found = framesEntry ? kindOf(yaml, framesEntry.value) : 'no frames:';
    sink.error(
      framesEntry ? 'invalid-value' : 'missing-field',
      yaml.at(framesEntry?.value, 'storyboard.frames', framesEntry?.keyNode ?? entry.keyNode),
      `expected frames: a list of at least two frames, each { image, prompt }, got ${found}`,
    );
    return;
  }
  const frames = yaml
    .items(framesEntry.value)
    .map((node, i) => readFrame(ctx, yaml, node, `storyboard.frames[${i}]`, jobDir));
  if (frames.length < 2) {
    sink.error(
      'storyboard-too-short',
      yaml.at(framesEntry.value, 'storyboard.frames', framesEntry.keyNode),
      `expected at least two frames (each transition goes from one frame to the next), got ${frames.length}`,
    );
    return;
  }
  const last = frames.at(-1)!;
  for (const item of last.entries) {
    if (item.key === 'image' || !FRAME_KEYS.includes(item.key)) continue;
    sink.error(
      'storyboard-last-frame',
      yaml.at(item.keyNode, `${last.path}.${item.key}`),
      item.key === 'prompt'
        ? "the last frame takes no prompt: nothing follows it. The move into it is described by the previous frame's prompt"
        : `the last frame takes no ${item.key}: nothing follows it. Set it on the previous frame, whose transition ends here`,
    );
  }
  for (let i = 0; i < frames.length - 1; i++) {
    ctx.drafts.push(
      transition(
        ctx,
        yaml,
        frames[i]!,
        frames[i + 1]!,
        defaults,
        jobDir,
        i,
        sequenceId(prefix, i, frames.length - 1),
      ),
    );
  }
}

function readFrame(ctx: LoadContext, yaml: YamlFile, node: Node | null, path: string, jobDir: string): Frame {
  const loc = yaml.at(node, path);
  const frame: Frame = { node, path, loc, entries: [], imageLoc: loc };
  let imageValue: unknown;
  if (yaml.isMap(node)) {
    frame.entries = yaml.entries(node);
    const image = frame.entries.find((item) => item.key === 'image');
    if (image) {
      imageValue = yaml.text(image.value);
      frame.imageLoc = yaml.at(image.value, `${path}.image`, image.keyNode);
    }
    for (const item of frame.entries) {
      if (FRAME_KEYS.includes(item.key)) continue;
      const text =
        item.key === 'last_image'
          ? 'a storyboard frame has no last_image: the next frame is where its transition ends'
          : unknownKeyText('field', item.key, FRAME_KEYS);
      ctx.sink.error('unknown-field', yaml.at(item.keyNode, `${path}.${item.key}`), text);
    }
  } else if (yaml.isPlain(node) || typeof yaml.value(node) === 'string') {
    imageValue = yaml.text(node); // `- frames/dawn.png`: a frame with only an image
  } else {
    ctx.sink.error(
      'invalid-value',
      loc,
      `expected a frame: { image, prompt } or an image path, got ${kindOf(yaml, node)}`,
    );
    return frame;
  }
  if (imageValue === undefined || imageValue === null) {
    ctx.sink.error(
      'missing-field',
      { ...loc, path: `${path}.image` },
      "missing image (the frame's picture: a file path or an http(s) URL)",
    );
    return frame;
  }
  const checked = coerceTaskField('image', imageValue);
  const entry = checked.ok ? ctx.frames.resolve(checked.value as string, jobDir) : checked.issue.message;
  if (typeof entry === 'string') ctx.sink.error('invalid-value', frame.imageLoc, entry);
  else frame.image = entry;
  return frame;
}

function transition(
  ctx: LoadContext,
  yaml: YamlFile,
  from: Frame,
  to: Frame,
  defaults: Defaults,
  jobDir: string,
  index: number,
  fallbackId: string,
): TaskDraft {
  const draft = newDraft(ctx, defaults, from.loc);
  const idItem = from.entries.find((item) => item.key === 'id');
  if (idItem) readYamlId(ctx, yaml, draft, idItem, `${from.path}.id`);
  else draft.id = fallbackId;
  // A frame whose image is missing or unusable was reported once, where it is written.
  if (from.image && to.image) {
    draft.image = from.image;
    draft.last_image = to.image;
    ctx.frameLocs.set(draft, { image: from.imageLoc, last_image: to.imageLoc });
  } else markInvalid(ctx, draft);
  const failed: string[] = [];
  for (const item of from.entries) {
    if (!FRAME_KEYS.includes(item.key)) {
      // Reported as unknown where the frame was read; a misspelt prompt is not also "missing".
      const meant = suggest(item.key, FRAME_KEYS);
      if (meant !== undefined) failed.push(meant);
    }
    if (!(TRANSITION_FIELDS as readonly string[]).includes(item.key)) continue;
    setYamlField(ctx, yaml, draft, item, `${from.path}.${item.key}`, jobDir, failed);
  }
  if (missingFields(draft, failed).includes('prompt')) {
    ctx.sink.error(
      'missing-field',
      { ...from.loc, path: `${from.path}.prompt` },
      `missing prompt (required): frame ${index}'s prompt describes the move from it to frame ${index + 1}`,
      draft.id,
    );
    markInvalid(ctx, draft);
  }
  return draft;
}
