import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Node } from 'yaml';
import { type Defaults, type LoadContext, markInvalid } from './_context.js';
import { suggest } from './_suggest.js';
import { kindOf, type YamlEntry, YamlFile } from './_yaml.js';
import { readCsvTasks } from './csv.js';
import {
  builtinDefaults,
  isTaskField,
  missingFields,
  newDraft,
  setField,
  setId,
  TASK_KEYS,
  unknownKeyText,
} from './fields.js';
import { JOB_SETTING_KEYS, type JobSettingKey, readJobSetting } from './job.js';
import { readStoryboard } from './storyboard.js';
import type { JobConfig, SourceLocation, TaskParams } from './types.js';

const TASK_SOURCES = ['tasks', 'tasks_csv', 'storyboard'] as const;
export const JOB_KEYS: readonly string[] = [...JOB_SETTING_KEYS, 'defaults', ...TASK_SOURCES];
const CSV_KEYS = ['path', 'encoding'];

/** The job file's `defaults:` as applied (for the plan summary). */
export interface YamlJobResult {
  defaults: Partial<TaskParams>;
}

/** Decode a job file as UTF-8, or say where it is not. */
function decodeUtf8(bytes: Buffer): { text: string } | { badLine: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const before = lossy.slice(0, lossy.indexOf('\uFFFD'));
    return { badLine: before.split('\n').length };
  }
}

/**
 * Read a YAML job file: its settings into `job`, its tasks (from `tasks:`, `tasks_csv:` and `storyboard:`, in
 * the order the file lists them) into `ctx.drafts`.
 */
export async function readYamlJob(
  ctx: LoadContext,
  path: string,
  file: string,
  job: JobConfig,
): Promise<YamlJobResult> {
  const { sink } = ctx;
  const result: YamlJobResult = { defaults: builtinDefaults().params };
  const bytes = await readFile(path);
  ctx.fileHashes.push(createHash('sha256').update(bytes).digest('hex'));
  const decoded = decodeUtf8(bytes);
  if (!('text' in decoded)) {
    sink.error(
      'encoding',
      { file, line: decoded.badLine, column: 1 },
      'expected a UTF-8 job file, found bytes that are not UTF-8 (save it as UTF-8)',
    );
    return result;
  }
  const yaml = new YamlFile(decoded.text, file);
  const issues = yaml.issues();
  for (const issue of issues) sink.add(issue.severity, 'yaml-syntax', issue.loc, issue.text);
  if (issues.some((i) => i.severity === 'error')) return result;

  const root = yaml.deref(yaml.doc.contents);
  const top: SourceLocation = { file, line: 1, column: 1 };
  if (!yaml.isMap(root)) {
    const found = root === null ? 'an empty file' : kindOf(yaml, root);
    sink.error(
      'invalid-value',
      top,
      `expected a job: a mapping with version: 1 and tasks:, tasks_csv: or storyboard:, got ${found}`,
    );
    return result;
  }
  const entries = yaml.entries(root);
  const byKey = new Map<string, YamlEntry>();
  for (const entry of entries) {
    if (JOB_KEYS.includes(entry.key)) byKey.set(entry.key, entry);
    else
      sink.error(
        'unknown-field',
        yaml.at(entry.keyNode, entry.key),
        unknownKeyText('field', entry.key, JOB_KEYS),
      );
  }
  if (!byKey.has('version'))
    sink.error('missing-field', top, 'missing version: 1 (the job file format version)');
  const jobDir = dirname(path);
  for (const entry of entries) {
    if ((JOB_SETTING_KEYS as readonly string[]).includes(entry.key)) {
      readJobSetting(ctx, yaml, entry as YamlEntry & { key: JobSettingKey }, job, jobDir);
    }
  }
  const defaultsEntry = byKey.get('defaults');
  const defaults = defaultsEntry ? readDefaults(ctx, yaml, defaultsEntry, jobDir) : builtinDefaults();
  result.defaults = defaults.params;

  if (!TASK_SOURCES.some((key) => byKey.has(key))) {
    sink.error('missing-field', top, 'expected tasks:, tasks_csv: or storyboard: (where the tasks are)');
  }
  for (const entry of entries) {
    if (entry.key === 'tasks') readTaskList(ctx, yaml, entry, defaults, jobDir);
    else if (entry.key === 'storyboard') readStoryboard(ctx, yaml, entry, defaults, jobDir, job.name);
    else if (entry.key === 'tasks_csv') {
      const csv = csvSpec(ctx, yaml, entry, jobDir);
      if (csv) await readCsvTasks(ctx, { ...csv, defaults });
    }
  }
  return result;
}

function readDefaults(ctx: LoadContext, yaml: YamlFile, entry: YamlEntry, jobDir: string): Defaults {
  const defaults: Defaults = builtinDefaults();
  if (entry.value === null) return defaults;
  if (!yaml.isMap(entry.value)) {
    ctx.sink.error(
      'invalid-value',
      yaml.at(entry.value, 'defaults'),
      `expected a mapping of task fields, got ${kindOf(yaml, entry.value)}`,
    );
    return defaults;
  }
  for (const item of yaml.entries(entry.value)) {
    const path = `defaults.${item.key}`;
    if (item.key === 'id') {
      ctx.sink.error(
        'unknown-field',
        yaml.at(item.keyNode, path),
        'id cannot be a default: an id names one task',
      );
    } else if (!isTaskField(item.key)) {
      ctx.sink.error(
        'unknown-field',
        yaml.at(item.keyNode, path),
        unknownKeyText('field', item.key, TASK_KEYS.slice(1)),
      );
    } else if (item.value !== null && yaml.value(item.value) !== null) {
      setField(ctx, defaults, item.key, yaml.value(item.value), yaml.at(item.value, path), {
        baseDir: jobDir,
      });
    }
  }
  return defaults;
}

function readTaskList(
  ctx: LoadContext,
  yaml: YamlFile,
  entry: YamlEntry,
  defaults: Defaults,
  jobDir: string,
): void {
  if (entry.value === null) return;
  if (!yaml.isSeq(entry.value)) {
    ctx.sink.error(
      'invalid-value',
      yaml.at(entry.value, 'tasks'),
      `expected a list of tasks, got ${kindOf(yaml, entry.value)}`,
    );
    return;
  }
  yaml.items(entry.value).forEach((node, index) => {
    const path = `tasks[${index}]`;
    if (!yaml.isMap(node)) {
      ctx.sink.error(
        'invalid-value',
        yaml.at(node, path),
        `expected a task (a mapping of fields), got ${kindOf(yaml, node)}`,
      );
      return;
    }
    ctx.drafts.push(readTask(ctx, yaml, node, path, defaults, jobDir));
  });
}

function readTask(
  ctx: LoadContext,
  yaml: YamlFile,
  node: Node,
  path: string,
  defaults: Defaults,
  jobDir: string,
) {
  const source = yaml.at(node, path);
  const draft = newDraft(ctx, defaults, source);
  const items = yaml.isMap(node) ? yaml.entries(node) : [];
  const idItem = items.find((item) => item.key === 'id');
  if (idItem)
    setId(ctx, draft, yaml.value(idItem.value), yaml.at(idItem.value, `${path}.id`, idItem.keyNode));
  const failed: string[] = [];
  for (const item of items) {
    if (item.key === 'id') continue;
    const at = `${path}.${item.key}`;
    if (!isTaskField(item.key)) {
      ctx.sink.error(
        'unknown-field',
        yaml.at(item.keyNode, at),
        unknownKeyText('field', item.key, TASK_KEYS),
        draft.id,
      );
      markInvalid(ctx, draft);
      // A misspelt required field is reported once, as misspelt, not also as missing.
      const meant = suggest(item.key, TASK_KEYS);
      if (meant !== undefined) failed.push(meant);
      continue;
    }
    const value = yaml.value(item.value);
    if (value === null) continue;
    if (!setField(ctx, draft, item.key, value, yaml.at(item.value, at, item.keyNode), { baseDir: jobDir })) {
      failed.push(item.key);
    }
  }
  for (const field of missingFields(draft, failed)) {
    ctx.sink.error(
      'missing-field',
      { ...source, path: `${path}.${field}` },
      `missing ${field} (required; set it on the task or in defaults:)`,
      draft.id,
    );
    markInvalid(ctx, draft);
  }
  return draft;
}

/** `tasks_csv: shots.csv` or `tasks_csv: { path: shots.csv, encoding: gbk }`. */
function csvSpec(ctx: LoadContext, yaml: YamlFile, entry: YamlEntry, jobDir: string) {
  const loc = yaml.at(entry.value, 'tasks_csv', entry.keyNode);
  const expected = 'expected a CSV path, or { path, encoding }';
  const plain = yaml.value(entry.value);
  if (typeof plain === 'string' && plain.trim() !== '')
    return { path: resolve(jobDir, plain.trim()), namedAt: loc };
  if (!yaml.isMap(entry.value)) {
    ctx.sink.error('invalid-value', loc, `${expected}, got ${kindOf(yaml, entry.value)}`);
    return undefined;
  }
  let path: string | undefined;
  let encoding: { name: string; loc: SourceLocation } | undefined;
  for (const item of yaml.entries(entry.value)) {
    const at = yaml.at(item.value, `tasks_csv.${item.key}`, item.keyNode);
    const value = yaml.value(item.value);
    if (!CSV_KEYS.includes(item.key)) {
      ctx.sink.error(
        'unknown-field',
        yaml.at(item.keyNode, `tasks_csv.${item.key}`),
        unknownKeyText('field', item.key, CSV_KEYS),
      );
    } else if (typeof value !== 'string' || value.trim() === '') {
      ctx.sink.error(
        'invalid-value',
        at,
        `expected ${item.key === 'path' ? 'a CSV path' : 'an encoding name such as gbk'}, got ${kindOf(yaml, item.value)}`,
      );
    } else if (item.key === 'path') path = resolve(jobDir, value.trim());
    else encoding = { name: value.trim(), loc: at };
  }
  if (path === undefined) {
    ctx.sink.error('missing-field', loc, 'missing path: the CSV file to read tasks from');
    return undefined;
  }
  return encoding ? { path, namedAt: loc, encoding } : { path, namedAt: loc };
}
