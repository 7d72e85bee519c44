import type { Node } from 'yaml';
import { type Defaults, type LoadContext, markInvalid, type TaskDraft } from './_context.js';
import { suggest } from './_suggest.js';
import { kindOf, type YamlEntry, type YamlFile } from './_yaml.js';
import {
  builtinDefaults,
  isTaskField,
  type ManifestField,
  missingFields,
  NOT_DEFAULTS,
  newDraft,
  setField,
  setId,
  TASK_KEYS,
  unknownKeyText,
} from './fields.js';
import type { SourceLocation } from './types.js';

/** A job file's `defaults:` and `tasks:`: task fields written out in YAML, located by line and column. */

/** Task fields whose YAML type counts (numbers, booleans); every other one is text, read as written. */
const TYPED_FIELDS: ReadonlySet<string> = new Set([
  'duration',
  'number_of_videos',
  'need_expand_prompt',
  'take',
]);
/** YAML 1.1's booleans, which YAML 1.2 reads as text: `need_expand_prompt: yes` still means yes. */
const YAML11_TRUE = /^(y|Y|yes|Yes|YES|on|On|ON)$/;
const YAML11_FALSE = /^(n|N|no|No|NO|off|Off|OFF)$/;

/** A task field's value as the user meant it; `skip` when there is none (`reported`: an explicit null). */
export type YamlFieldRead = { set: unknown } | { skip: 'empty' | 'reported' };

/**
 * Read one task field the way a YAML user means it: text fields as written (`prompt: 1e3` is "1e3"),
 * `yes`/`no`/`on`/`off` as booleans, an empty value as "not set". An explicit `~` or `null` is reported: it
 * would either keep a default the user meant to clear or become a prompt nobody wrote.
 */
export function readYamlField(
  ctx: LoadContext,
  yaml: YamlFile,
  item: YamlEntry,
  loc: SourceLocation,
  taskId?: string,
): YamlFieldRead {
  const written = yaml.writtenNull(item.value);
  if (written !== undefined) {
    ctx.sink.error(
      'invalid-value',
      loc,
      `expected a value for ${item.key}, got ${written} (YAML's null): leave the field out to use the default, or quote it ("${written}") if it is the text`,
      taskId,
    );
    return { skip: 'reported' };
  }
  const value = TYPED_FIELDS.has(item.key) ? yaml.value(item.value) : yaml.text(item.value);
  if (value === null) return { skip: 'empty' };
  if (typeof value === 'string' && item.key === 'need_expand_prompt' && yaml.isPlain(item.value)) {
    if (YAML11_TRUE.test(value)) return { set: true };
    if (YAML11_FALSE.test(value)) return { set: false };
  }
  return { set: value };
}

export function readDefaults(ctx: LoadContext, yaml: YamlFile, entry: YamlEntry, jobDir: string): Defaults {
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
    const notDefault = NOT_DEFAULTS[item.key];
    if (notDefault !== undefined) {
      ctx.sink.error('unknown-field', yaml.at(item.keyNode, path), notDefault);
    } else if (!isTaskField(item.key)) {
      ctx.sink.error(
        'unknown-field',
        yaml.at(item.keyNode, path),
        unknownKeyText(
          'field',
          item.key,
          TASK_KEYS.filter((k) => NOT_DEFAULTS[k] === undefined),
        ),
      );
    } else {
      const loc = yaml.at(item.value, path, item.keyNode);
      const read = readYamlField(ctx, yaml, item, loc);
      if ('set' in read) setField(ctx, defaults, item.key, read.set, loc, { baseDir: jobDir });
    }
  }
  return defaults;
}

/** Read one field of a task (see `readYamlField`) and set it; a field that could not be set joins `failed`. */
export function setYamlField(
  ctx: LoadContext,
  yaml: YamlFile,
  draft: TaskDraft,
  item: YamlEntry,
  path: string,
  jobDir: string,
  failed: string[],
): void {
  const loc = yaml.at(item.value, path, item.keyNode);
  const read = readYamlField(ctx, yaml, item, loc, draft.id);
  if ('skip' in read) {
    if (read.skip === 'reported') {
      failed.push(item.key);
      markInvalid(ctx, draft);
    }
    return;
  }
  if (!setField(ctx, draft, item.key as ManifestField, read.set, loc, { baseDir: jobDir }))
    failed.push(item.key);
}

/** A task's `id:` as written (`007` stays "007"); an explicit null is reported like any field's. */
export function readYamlId(
  ctx: LoadContext,
  yaml: YamlFile,
  draft: TaskDraft,
  item: YamlEntry,
  path: string,
): void {
  const loc = yaml.at(item.value, path, item.keyNode);
  const written = yaml.writtenNull(item.value);
  if (written !== undefined) {
    ctx.sink.error(
      'invalid-id',
      loc,
      `expected an id, got ${written} (YAML's null): leave id out for a derived one, or quote it ("${written}")`,
    );
    markInvalid(ctx, draft);
    return;
  }
  setId(ctx, draft, yaml.text(item.value), loc);
}

export function readTaskList(
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
  if (idItem) readYamlId(ctx, yaml, draft, idItem, `${path}.id`);
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
    setYamlField(ctx, yaml, draft, item, at, jobDir, failed);
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
