import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { LoadContext } from './_context.js';
import { readCsvTasks } from './csv.js';
import { builtinDefaults, setParams } from './fields.js';
import { finalize } from './finalize.js';
import { fitLastFrames } from './fit-last.js';
import { DEFAULT_IMAGE_MAX_BYTES, FrameStore } from './frames.js';
import { FileLocator } from './locate.js';
import { displayPath } from './location.js';
import type { MeasureSettings } from './measure.js';
import { PreparedFrameCache } from './prepare/cache.js';
import { resolvePrepareOptions } from './prepare/options.js';
import { ProblemSink } from './problems.js';
import type {
  JobConfig,
  LoadOptions,
  Plan,
  PlannedTask,
  PlanSummary,
  PreparedFrameRef,
  TaskParams,
} from './types.js';

/** A table may be comma-, semicolon- or tab-separated whatever its extension (Excel's "Unicode Text" is .txt). */
const FORMATS: Record<string, Plan['manifest']['format']> = {
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.tab': 'csv',
  '.txt': 'csv',
};

/**
 * Read and check a manifest completely (a YAML job file or a bare CSV) and plan its tasks. Every problem a
 * user can fix is collected in `problems` (errors and warnings); the plan is valid when `summary.errors` is 0.
 * Nothing is sent; nothing is written but prepared frames, into their cache (`LoadOptions.prepare`). Throws
 * only on programming errors.
 */
export async function loadPlan(manifestPath: string, options: LoadOptions = {}): Promise<Plan> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, manifestPath);
  const file = displayPath(path, cwd);
  const sink = new ProblemSink();
  sink.registerFile(file);
  const rules =
    options.limits?.promptMaxChars === undefined ? {} : { promptMaxChars: options.limits.promptMaxChars };
  const locator = new FileLocator();
  const imageMaxBytes = options.limits?.imageMaxBytes ?? DEFAULT_IMAGE_MAX_BYTES;
  const job: JobConfig = { name: basename(path, extname(path)), limits: {} };
  let settings: MeasureSettings | undefined;
  // Resolved when the first frame is measured: by then a job file's `prepare:` has been read.
  const measureSettings = (): MeasureSettings => {
    if (settings) return settings;
    const resolved = resolvePrepareOptions(options.prepare, job.prepare);
    // A frame as sent is never over the provider's limit, whatever the preparation limit says.
    const prepare = { ...resolved, maxBytes: Math.min(resolved.maxBytes, imageMaxBytes) };
    settings = { maxBytes: imageMaxBytes, prepare, cache: new PreparedFrameCache(prepare.cacheDir) };
    return settings;
  };
  const ctx: LoadContext = {
    cwd,
    sink,
    frames: new FrameStore(locator, measureSettings),
    locator,
    imageMaxBytes,
    rules,
    drafts: [],
    fileHashes: [],
    coerce: { text: { fromText: true, rules }, typed: { fromText: false, rules } },
    strings: new Map(),
    invalid: new Set(),
    frameLocs: new Map(),
  };
  if (options.encoding !== undefined) ctx.encoding = options.encoding;
  const extension = extname(path).toLowerCase();
  const format = FORMATS[extension];
  let defaults: Partial<TaskParams> = builtinDefaults().params;
  const found = await kindOfPath(path);

  if (format === undefined) {
    sink.error(
      'unsupported-format',
      { file },
      `expected a .yaml or .yml job file, or a table (.csv, .tsv, .txt), got ${extension === '' ? 'a file without extension' : `a ${extension} file`}`,
    );
  } else if (found !== 'file') {
    const text = found === 'missing' ? 'manifest not found' : 'expected a manifest file, found a directory';
    sink.error('file-missing', { file }, `${text}: ${file}`);
  } else if (format === 'csv') {
    await readCsvTasks(ctx, { path, defaults: builtinDefaults() });
  } else {
    // The YAML parser is loaded only for YAML manifests: a bare CSV of 100,000 rows has memory to spare for.
    const { readYamlJob } = await import('./yaml.js');
    defaults = (await readYamlJob(ctx, path, file, job)).defaults;
  }
  await ctx.frames.settled();
  await fitLastFrames(ctx, measureSettings);
  const { tasks, duplicateRows } = finalize(ctx, options.strict ?? false);
  if (
    ctx.drafts.length === 0 &&
    format !== undefined &&
    !sink.list.some((p) => p.severity === 'error' || p.kind === 'no-tasks')
  ) {
    sink.warn('no-tasks', { file }, 'the manifest has no tasks: nothing to do');
  }
  const problems = sink.sorted();
  const prepared = preparedFrames(tasks);
  const { enabled, maxSidePx, maxBytes } = measureSettings().prepare;
  return {
    manifest: { path, format: format ?? 'yaml', hash: manifestHash(ctx.fileHashes) },
    job,
    tasks,
    problems,
    summary: {
      ...summarize(tasks, duplicateRows, problems, defaults),
      framesPrepared: prepared.length,
      prepare: { enabled, maxSidePx, maxBytes },
    },
    prepared,
  };
}

async function kindOfPath(path: string): Promise<'file' | 'directory' | 'missing'> {
  try {
    return (await stat(path)).isFile() ? 'file' : 'directory';
  } catch {
    return 'missing';
  }
}

/** One hash over the manifest and the CSV it includes: changes when either does. */
function manifestHash(fileHashes: string[]): string {
  return createHash('sha256').update(fileHashes.join('\n')).digest('hex');
}

/** Prepared frames, each once per source and result, in the order tasks first use them. */
function preparedFrames(tasks: PlannedTask[]): PreparedFrameRef[] {
  const seen = new Map<string, PreparedFrameRef>();
  for (const task of tasks) {
    for (const frame of [task.image, task.last_image]) {
      if (frame.kind !== 'file' || !frame.prepared) continue;
      const key = `${frame.prepared.source.path}\u0000${frame.sha256}`;
      if (!seen.has(key)) seen.set(key, frame as PreparedFrameRef);
    }
  }
  return [...seen.values()];
}

function summarize(
  tasks: PlannedTask[],
  duplicateRows: number,
  problems: Plan['problems'],
  defaults: Partial<TaskParams>,
): PlanSummary {
  let videos = 0;
  let seconds = 0;
  const uploads = new Set<string>();
  const urls = new Set<string>();
  for (const task of tasks) {
    videos += task.params.number_of_videos;
    seconds += task.params.duration * task.params.number_of_videos;
    for (const frame of [task.image, task.last_image]) {
      if (frame.kind === 'file') uploads.add(frame.sha256);
      else urls.add(frame.url);
    }
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  return {
    tasks: tasks.length,
    videos,
    seconds,
    framesToUpload: uploads.size,
    urlFrames: urls.size,
    duplicateRows,
    errors,
    warnings: problems.length - errors,
    defaults: setParams(defaults),
  };
}
