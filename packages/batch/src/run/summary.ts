import { relative, sep } from 'node:path';
import { computeTotals, type FilmSummary, type RunSummary, type TaskSummary } from '@flf2v/reporter';
import { takeOf } from '../manifest/take.js';
import type { FrameRecord, RequestStats } from '../state/records.js';
import { type RunState, submissionsOf, type TaskState } from '../state/run-state.js';
import { TOOL_VERSION } from '../version.js';
import { LiveView } from './live-view.js';

/**
 * Map the run state (plus, during a run, what each task is doing right now) into the reporter's plain model.
 * URLs lose their query strings: signed URLs are credentials, and they expire anyway.
 */

export interface SummaryContext {
  outDir: string;
  state: RunState;
  runState: RunSummary['run']['state'];
  /** Request counters including the current session. */
  stats: RequestStats;
  startedAt?: string;
  finishedAt?: string;
  /** What a running pipeline's tasks are doing; none for a directory read from its state alone. */
  view?: LiveView;
  /** The film `flf2v film` recorded in the directory, if any. */
  film?: FilmSummary;
}

/** The view of a directory no pipeline is running on: the state says everything. */
const AT_REST = new LiveView();

export function stripQuery(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

function stageOf(task: TaskState, view: LiveView): string {
  const live = view.stageOf(task.key);
  if (view.removed.has(task.key) && task.phase !== 'succeeded') return 'removed';
  if (live) return live === 'queued' && task.phase === 'planned' ? 'planned' : live;
  if (task.stalledAt && task.phase === 'submitted') return 'stalled';
  switch (task.phase) {
    case 'succeeded':
      return 'done';
    case 'submitted':
      return 'running';
    case 'completed':
      return 'downloading';
    default:
      return task.phase;
  }
}

function thumbnail(frame: FrameRecord, outDir: string): string | undefined {
  if (frame.url) return frame.url;
  if (!frame.path) return undefined;
  return relative(outDir, frame.path).split(sep).join('/');
}

/** A task in the report model; `chosen`: its take is its shot's chosen take (see `chosenTake`). */
export function taskSummary(task: TaskState, outDir: string, view: LiveView, chosen: boolean): TaskSummary {
  const p = task.params;
  const summary: TaskSummary = {
    id: task.id,
    key: task.key,
    take: takeOf(task),
    chosen,
    status: view.outcomeOf(task),
    stage: stageOf(task, view),
    attempts: view.attemptsOf(task),
    submissions: submissionsOf(task),
    timings: {
      queuedAt: task.plannedAt,
      submittedAt: task.submittedAt,
      // A failed task's bar ends where it failed.
      completedAt: task.completedAt ?? task.failedAt,
      downloadedAt: task.downloadedAt,
    },
    videos: task.videos.flatMap((v) =>
      v ? [{ path: v.path, url: stripQuery(v.url), sha256: v.sha256, bytes: v.bytes }] : [],
    ),
    request: {
      selected_model: p.selected_model,
      prompt: p.prompt,
      negative_prompt: p.negative_prompt,
      resolution: p.resolution,
      duration: p.duration,
      number_of_videos: p.number_of_videos,
      need_expand_prompt: p.need_expand_prompt,
      image: task.image.display,
      last_image: task.last_image.display,
    },
    frames: { image: thumbnail(task.image, outDir), last_image: thumbnail(task.last_image, outDir) },
  };
  if (task.taskId) summary.taskId = task.taskId;
  if (task.error) summary.error = { ...task.error };
  const progress = view.progressOf(task.key);
  if (progress !== undefined) summary.progress = progress;
  return summary;
}

export function buildSummary(ctx: SummaryContext): RunSummary {
  const { state, view = AT_REST } = ctx;
  const tasks = [...state.tasks.values()].map((t) =>
    taskSummary(t, ctx.outDir, view, takeOf(t) === chosenTake(state, t.id)),
  );
  const now = new Date().toISOString();
  const s = ctx.stats;
  return {
    schemaVersion: 1,
    run: {
      name: state.header?.job ?? '',
      manifest: state.manifest ?? '',
      outDir: ctx.outDir,
      toolVersion: TOOL_VERSION,
      startedAt: ctx.startedAt ?? state.firstSessionAt ?? state.header?.createdAt ?? now,
      finishedAt: ctx.finishedAt,
      updatedAt: now,
      state: ctx.runState,
      limits: { ...state.limits },
      requests: {
        upload: s.upload,
        submit: s.submit,
        status: s.status,
        result: s.result,
        download: s.download,
      },
      rateLimited: s.rateLimited,
      retries: s.retries,
      removedTasks: view.removed.size,
      ...(ctx.runState !== 'running' && state.lastSessionError
        ? { stoppedBy: { ...state.lastSessionError } }
        : {}),
    },
    totals: computeTotals(tasks),
    ...(ctx.film ? { film: ctx.film } : {}),
    tasks,
  };
}

/** Tasks of the current plan by outcome: what a run's exit code is decided on (a directory may hold others). */
export function planTotals(summary: RunSummary, planKeys: ReadonlySet<string>): PlanTotals {
  const totals: PlanTotals = { tasks: 0, succeeded: 0, failed: 0, unknown: 0, pending: 0 };
  for (const t of summary.tasks) {
    if (!planKeys.has(t.key)) continue;
    totals.tasks++;
    totals[t.status]++;
  }
  return totals;
}

export interface PlanTotals {
  tasks: number;
  succeeded: number;
  failed: number;
  unknown: number;
  pending: number;
}

/** The take of shot `id` its film uses: the one `flf2v choose` recorded, else take 1. */
export function chosenTake(state: RunState, id: string): number {
  return state.chosen.get(id) ?? 1;
}
