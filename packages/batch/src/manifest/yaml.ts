import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { LoadContext } from './_context.js';
import { kindOf, type YamlEntry, YamlFile } from './_yaml.js';
import { readCsvTasks } from './csv.js';
import { builtinDefaults, unknownKeyText } from './fields.js';
import { JOB_SETTING_KEYS, type JobSettingKey, readJobSetting } from './job.js';
import { readStoryboard } from './storyboard.js';
import type { JobConfig, SourceLocation, TaskParams } from './types.js';
import { readDefaults, readTaskList } from './yaml-tasks.js';

const TASK_SOURCES = ['tasks', 'tasks_csv', 'storyboard'] as const;
export const JOB_KEYS: readonly string[] = [...JOB_SETTING_KEYS, 'defaults', ...TASK_SOURCES];
const CSV_KEYS = ['path', 'encoding'];

/** The job file's `defaults:` as applied (for the plan summary). */
export interface YamlJobResult {
  defaults: Partial<TaskParams>;
}

/**
 * Top-level keys that hold anchors for the rest of the file and are otherwise ignored: `x-…` as Docker Compose
 * has them, `.…` as GitLab CI does.
 */
export function isExtensionKey(key: string): boolean {
  return key.startsWith('x-') || key.startsWith('.');
}

/** Decode a job file (UTF-8, or UTF-16 with its byte order mark as YAML allows), or say where it is not. */
function decodeJobFile(bytes: Buffer): { text: string } | { badLine: number } {
  const utf16 =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? 'utf-16le'
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? 'utf-16be'
        : undefined;
  const encoding = utf16 ?? 'utf-8';
  try {
    return { text: new TextDecoder(encoding, { fatal: true }).decode(bytes) };
  } catch {
    const lossy = new TextDecoder(encoding).decode(bytes);
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
  const decoded = decodeJobFile(bytes);
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
    else if (!isExtensionKey(entry.key))
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
  for (const problem of yaml.mergeProblems) sink.error('invalid-value', problem.loc, problem.text);
  return result;
}

/** `tasks_csv: shots.csv` or `tasks_csv: { path: shots.csv, encoding: gbk }`. */
function csvSpec(ctx: LoadContext, yaml: YamlFile, entry: YamlEntry, jobDir: string) {
  const loc = yaml.at(entry.value, 'tasks_csv', entry.keyNode);
  const expected = 'expected a CSV path, or { path, encoding }';
  const plain = yaml.text(entry.value);
  if (typeof plain === 'string' && plain.trim() !== '')
    return {
      path: resolve(jobDir, plain.trim()),
      namedAt: loc,
      written: { baseDir: jobDir, text: plain.trim() },
    };
  if (!yaml.isMap(entry.value)) {
    ctx.sink.error('invalid-value', loc, `${expected}, got ${kindOf(yaml, entry.value)}`);
    return undefined;
  }
  let path: string | undefined;
  let encoding: { name: string; loc: SourceLocation } | undefined;
  let written: { baseDir: string; text: string } | undefined;
  for (const item of yaml.entries(entry.value)) {
    const at = yaml.at(item.value, `tasks_csv.${item.key}`, item.keyNode);
    const value = yaml.text(item.value);
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
    } else if (item.key === 'path') {
      path = resolve(jobDir, value.trim());
      written = { baseDir: jobDir, text: value.trim() };
    } else encoding = { name: value.trim(), loc: at };
  }
  if (path === undefined) {
    ctx.sink.error('missing-field', loc, 'missing path: the CSV file to read tasks from');
    return undefined;
  }
  const spec = { path, namedAt: loc, ...(written ? { written } : {}) };
  return encoding ? { ...spec, encoding } : spec;
}
