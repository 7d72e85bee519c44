import { ms } from '../_time.js';
import type { RunSummary, TaskSummary } from '../types.js';
import { taskRef } from './_ref.js';

/**
 * The task data embedded in report.html for its table. Rows are arrays (field names once, in `fields`) and
 * repeated strings — model, resolution, frames, prompts of bulk jobs, error messages — are stored once in
 * `strings`: at 10,000 tasks this keeps the page a few MB instead of tens. Times are ms after `t0`.
 */
export interface Payload {
  t0: number;
  fields: readonly string[];
  /** Fields whose values are indexes into `strings`. */
  interned: readonly string[];
  strings: string[];
  rows: unknown[][];
}

type Field = (typeof FIELDS)[number];

const FIELDS = [
  'id',
  'ref',
  'take',
  'chosen',
  'key',
  'status',
  'stage',
  'taskId',
  'attempts',
  'submissions',
  'queued',
  'submitted',
  'completed',
  'downloaded',
  'prompt',
  'negativePrompt',
  'model',
  'resolution',
  'duration',
  'count',
  'expand',
  'image',
  'lastImage',
  'frame',
  'lastFrame',
  'videos',
  'errorCode',
  'errorMessage',
  'retryable',
  'progress',
] as const;

const INTERNED: ReadonlySet<Field> = new Set<Field>([
  'status',
  'stage',
  'prompt',
  'negativePrompt',
  'model',
  'resolution',
  'image',
  'lastImage',
  'frame',
  'lastFrame',
  'errorCode',
  'errorMessage',
]);

export function buildPayload(summary: RunSummary, t0: number): Payload {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const intern = (value: string | undefined): number | null => {
    if (value === undefined) return null;
    let i = index.get(value);
    if (i === undefined) {
      i = strings.push(value) - 1;
      index.set(value, i);
    }
    return i;
  };
  const at = (iso: string | undefined): number | null => {
    const t = ms(iso);
    return t === undefined ? null : t - t0;
  };
  const rows = summary.tasks.map((task) => {
    const values = row(task, at);
    return FIELDS.map((field) => {
      const value = values[field];
      return INTERNED.has(field) ? intern(value as string | undefined) : (value ?? null);
    });
  });
  return { t0, fields: FIELDS, interned: [...INTERNED], strings, rows };
}

function row(task: TaskSummary, at: (iso: string | undefined) => number | null): Record<Field, unknown> {
  const { request: r, timings: t } = task;
  return {
    id: task.id,
    ref: taskRef(task),
    take: task.take ?? 1,
    chosen: task.chosen === false ? 0 : 1,
    key: task.key,
    status: task.status,
    stage: task.stage,
    taskId: task.taskId,
    attempts: task.attempts,
    submissions: task.submissions,
    queued: at(t.queuedAt),
    submitted: at(t.submittedAt),
    completed: at(t.completedAt),
    downloaded: at(t.downloadedAt),
    prompt: r.prompt,
    negativePrompt: r.negative_prompt,
    model: r.selected_model,
    resolution: r.resolution,
    duration: r.duration,
    count: r.number_of_videos,
    expand: r.need_expand_prompt === undefined ? null : r.need_expand_prompt ? 1 : 0,
    image: r.image,
    lastImage: r.last_image,
    frame: task.frames?.image,
    lastFrame: task.frames?.last_image,
    videos: task.videos.length ? task.videos.map((v) => [v.path, v.bytes]) : null,
    errorCode: task.error?.code,
    errorMessage: task.error?.message,
    retryable: task.error === undefined ? null : task.error.retryable ? 1 : 0,
    progress: task.progress,
  };
}
