import { formatLocation } from './location.js';
import type { Problem, Severity, SourceLocation } from './types.js';

/**
 * Every problem kind a manifest can have. Stable: scripts branch on them (`validate --json`).
 */
export const PROBLEM_KINDS = [
  'file-missing',
  'unsupported-format',
  'yaml-syntax',
  'csv-syntax',
  'encoding',
  'unsupported-version',
  'unknown-field',
  'missing-field',
  'invalid-value',
  'invalid-schedule',
  'invalid-timezone',
  'invalid-id',
  'duplicate-id',
  'duplicate-column',
  'extra-cells',
  'no-tasks',
  'storyboard-too-short',
  'storyboard-last-frame',
  'frame-missing',
  'path-spelling',
  'frame-format',
  'frame-truncated',
  'frame-too-large',
  'frame-aspect',
  'aspect-mismatch',
  'duplicate-task',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** Collects problems as the loaders find them; nothing stops at the first one. */
export class ProblemSink {
  readonly list: Problem[] = [];
  private readonly files = new Map<string, number>();

  /** Files in the order they are read, so problems sort as the user reads the job: job file, then its CSV. */
  registerFile(file: string): void {
    if (!this.files.has(file)) this.files.set(file, this.files.size);
  }

  add(severity: Severity, kind: ProblemKind, location: SourceLocation, text: string, taskId?: string): void {
    const task = taskId === undefined ? '' : ` (task ${taskId})`;
    const problem: Problem = {
      severity,
      kind,
      message: `${formatLocation(location)}${task}: ${text}`,
      location,
    };
    if (taskId !== undefined) problem.taskId = taskId;
    this.list.push(problem);
  }

  error(kind: ProblemKind, location: SourceLocation, text: string, taskId?: string): void {
    this.add('error', kind, location, text, taskId);
  }

  warn(kind: ProblemKind, location: SourceLocation, text: string, taskId?: string): void {
    this.add('warning', kind, location, text, taskId);
  }

  /** Problems in reading order: by file (as first met), then line or row, then column. */
  sorted(): Problem[] {
    const fileOrder = new Map(this.files);
    for (const p of this.list)
      if (!fileOrder.has(p.location.file)) fileOrder.set(p.location.file, fileOrder.size);
    const at = (p: Problem) => p.location.line ?? p.location.row ?? 0;
    return this.list
      .map((p, i) => ({ p, i }))
      .sort(
        (a, b) =>
          fileOrder.get(a.p.location.file)! - fileOrder.get(b.p.location.file)! ||
          at(a.p) - at(b.p) ||
          (a.p.location.column ?? 0) - (b.p.location.column ?? 0) ||
          a.i - b.i,
      )
      .map(({ p }) => p);
  }
}
