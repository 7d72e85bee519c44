import { isAbsolute, relative } from 'node:path';
import type { SourceLocation } from './types.js';

/** A path as the user would type it: relative to `cwd` when it lies below it, else absolute. */
export function displayPath(absPath: string, cwd: string): string {
  const rel = relative(cwd, absPath);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? absPath : rel;
}

/**
 * `jobs/a.yaml:12:15: tasks[3].duration` (YAML), `jobs/park.csv row 14, column duration` (CSV), or just the
 * file when the problem concerns it as a whole.
 */
export function formatLocation(location: SourceLocation): string {
  if (location.row !== undefined) {
    const column = location.field === undefined ? '' : `, column ${location.field}`;
    return `${location.file} row ${location.row}${column}`;
  }
  let text = location.file;
  if (location.line !== undefined) text += `:${location.line}:${location.column ?? 1}`;
  const path = location.path ?? location.field;
  if (path !== undefined) text += `: ${path}`;
  return text;
}
