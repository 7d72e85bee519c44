import type { Node } from 'yaml';
import { type Defaults, type LoadContext, markInvalid } from './_context.js';
import { suggest } from './_suggest.js';
import { kindOf, type YamlEntry, type YamlFile } from './_yaml.js';
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

/** A job file's `defaults:` and `tasks:`: task fields written out in YAML, located by line and column. */

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
