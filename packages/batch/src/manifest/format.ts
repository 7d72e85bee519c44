import { dirname } from 'node:path';
import { formatBytes } from './bytes.js';
import { displayPath } from './location.js';
import { FORMAT_NAMES } from './prepare/formats.js';
import type { Plan, PreparedFrom, Problem } from './types.js';

/** `error: jobs/park.csv row 14, column duration: expected 5, 6 or 8, got "7" [invalid-value]` */
export function formatProblem(problem: Problem): string {
  return `${problem.severity}: ${problem.message} [${problem.kind}]`;
}

/** Errors, then warnings, each under its own heading; empty when there are none. */
export function formatProblems(problems: readonly Problem[]): string {
  const lines: string[] = [];
  for (const severity of ['error', 'warning'] as const) {
    const some = problems.filter((p) => p.severity === severity);
    if (some.length === 0) continue;
    if (lines.length > 0) lines.push('');
    lines.push(`${some.length} ${severity}${some.length === 1 ? '' : 's'}:`);
    for (const problem of some) lines.push(`  ${problem.message} [${problem.kind}]`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

function showDefault(value: unknown): string {
  return typeof value === 'string' && /^[\w.:-]+$/.test(value) ? value : JSON.stringify(value);
}

/** The plan in a few lines: what would be made, from what, and whether it may run. */
export function formatPlanSummary(plan: Plan, cwd: string = process.cwd()): string {
  const s = plan.summary;
  const lines = [
    `Plan for job ${plan.job.name}: ${plural(s.tasks, 'task')} → ${plural(s.videos, 'video')}, ${plural(s.seconds, 'second')} of video`,
    `  frames: ${plural(s.framesToUpload, 'distinct file')} to upload, ${plural(s.urlFrames, 'URL')} sent as given`,
  ];
  lines.push(...preparedLines(plan, cwd));
  if (s.duplicateRows > 0)
    lines.push(`  ${plural(s.duplicateRows, 'identical task')} folded into earlier ones`);
  const defaults = Object.entries(s.defaults)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${showDefault(v)}`);
  lines.push(`  defaults: ${defaults.join(', ')}`);
  if (plan.job.schedule)
    lines.push(`  schedule: ${plan.job.schedule} (${plan.job.timezone ?? 'local time'})`);
  if (plan.job.out) lines.push(`  out: ${displayPath(plan.job.out, cwd)}`);
  const verdict =
    s.errors > 0
      ? `invalid: ${plural(s.errors, 'error')}${s.warnings > 0 ? `, ${plural(s.warnings, 'warning')}` : ''}; nothing would be sent`
      : `valid${s.warnings > 0 ? ` with ${plural(s.warnings, 'warning')}` : ''}`;
  lines.push(verdict);
  return `${lines.join('\n')}\n`;
}

const PREPARED_SHOWN = 20;

/** What preparation does, frame by frame (up to 20; `--json` has them all). */
function preparedLines(plan: Plan, cwd: string): string[] {
  const prepare = plan.summary.prepare;
  if (prepare && !prepare.enabled) return ['  frames are sent as they are (preparation off)'];
  const prepared = plan.prepared ?? [];
  if (prepared.length === 0) return [];
  const limits = prepare
    ? ` (at most ${prepare.maxSidePx} px and ${formatBytes(prepare.maxBytes)} each)`
    : '';
  const lines = [`  prepared before upload${limits}: ${plural(prepared.length, 'frame')}`];
  for (const frame of prepared.slice(0, PREPARED_SHOWN)) {
    const from = frame.prepared.source;
    lines.push(
      `    ${frame.display}: ${FORMAT_NAMES[from.format]} ${from.width}×${from.height} → ${frame.format.toUpperCase()} ${frame.width}×${frame.height}, ${formatBytes(frame.bytes)}: ${frame.prepared.steps.join('; ')}`,
    );
  }
  if (prepared.length > PREPARED_SHOWN)
    lines.push(`    … and ${prepared.length - PREPARED_SHOWN} more (--json lists them all)`);
  lines.push(`    kept in ${displayPath(dirname(prepared[0]!.path), cwd)}`);
  return lines;
}

/** `flf2v validate --json`: versioned, with every problem; tasks are summarised, not listed. */
export interface PlanJson {
  schemaVersion: 1;
  valid: boolean;
  manifest: Plan['manifest'];
  job: Plan['job'];
  summary: Plan['summary'];
  problems: Plan['problems'];
  /** Each prepared frame: the file named, what is sent instead, and what was done. */
  prepared: {
    image: string;
    source: PreparedFrom['source'];
    sent: {
      path: string;
      sha256: string;
      format: 'png' | 'jpeg';
      width: number;
      height: number;
      bytes: number;
    };
    steps: string[];
  }[];
}

export function planToJson(plan: Plan): PlanJson {
  return {
    schemaVersion: 1,
    valid: plan.summary.errors === 0,
    manifest: plan.manifest,
    job: plan.job,
    summary: plan.summary,
    problems: plan.problems,
    prepared: (plan.prepared ?? []).map((f) => ({
      image: f.display,
      source: f.prepared.source,
      sent: {
        path: f.path,
        sha256: f.sha256,
        format: f.format,
        width: f.width,
        height: f.height,
        bytes: f.bytes,
      },
      steps: f.prepared.steps,
    })),
  };
}
