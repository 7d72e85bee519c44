import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { usageError } from '../errors.js';
import { displayPath } from '../manifest/location.js';
import { loadPlan } from '../manifest/plan.js';
import type { Problem } from '../manifest/types.js';
import { placementOf, relativeToRoot } from './out-dir.js';
import type { ScheduledJob } from './types.js';

/**
 * Which job files the scheduler runs. A jobs directory means every `*.yaml`/`*.yml` directly in it that has a
 * top-level `schedule:`; files without one are listed and ignored. A job whose schedule, time zone, name or
 * `out:` is broken cannot be placed in time or on disk, so it is reported and not scheduled; problems in its
 * tasks or CSV only warn, because every firing re-reads and re-validates the job anyway (fixing the CSV during
 * the day is enough). One bad file never stops the others.
 */

export interface JobDiscovery {
  jobs: ScheduledJob[];
  /** Job files without `schedule:` (display paths). */
  ignored: string[];
  /** Job files with a `schedule:` that cannot be scheduled, with why. */
  invalid: { file: string; messages: string[] }[];
  /** Scheduled jobs whose tasks have problems today (each firing re-validates). */
  warnings: { file: string; messages: string[] }[];
}

const YAML_EXTENSIONS = ['.yaml', '.yml'];
/** The settings that decide when a job fires and where its runs go. */
const PLACING_SETTINGS = ['schedule', 'timezone', 'name', 'out', 'version'];

export async function discoverJobs(paths: string[], cwd = process.cwd()): Promise<JobDiscovery> {
  const files: string[] = [];
  const found: JobDiscovery = { jobs: [], ignored: [], invalid: [], warnings: [] };
  for (const arg of paths) {
    const path = resolve(cwd, arg);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw usageError(`${arg}: expected a jobs directory or a job file, found nothing there`);
    if (info.isDirectory()) {
      const names = (await readdir(path, { withFileTypes: true }))
        .filter((e) => e.isFile() && YAML_EXTENSIONS.includes(extname(e.name).toLowerCase()))
        .map((e) => join(path, e.name))
        .sort();
      files.push(...names);
    } else files.push(path);
  }
  const roots = new Map<string, string>();
  for (const file of [...new Set(files)]) {
    const display = displayPath(file, cwd);
    const verdict = await examine(file, display, cwd).catch(
      (error: unknown): Verdict => ({
        kind: 'invalid',
        messages: [`${display}: cannot be read: ${error instanceof Error ? error.message : String(error)}`],
      }),
    );
    if (verdict.kind === 'ignored') found.ignored.push(display);
    else if (verdict.kind === 'invalid') found.invalid.push({ file: display, messages: verdict.messages });
    else {
      const owner = roots.get(verdict.job.placement.root);
      if (owner) {
        found.invalid.push({
          file: display,
          messages: [
            `${display}: its runs would go to ${relativeToRoot(cwd, verdict.job.placement.root)}, which ${owner} already uses: give it its own name: or out:`,
          ],
        });
        continue;
      }
      roots.set(verdict.job.placement.root, display);
      found.jobs.push(verdict.job);
      if (verdict.taskProblems.length > 0)
        found.warnings.push({ file: display, messages: verdict.taskProblems });
    }
  }
  return found;
}

type Verdict =
  | { kind: 'ignored' }
  | { kind: 'invalid'; messages: string[] }
  | { kind: 'scheduled'; job: ScheduledJob; taskProblems: string[] };

async function examine(file: string, display: string, cwd: string): Promise<Verdict> {
  if (!YAML_EXTENSIONS.includes(extname(file).toLowerCase())) {
    return {
      kind: 'invalid',
      messages: [
        `${display}: expected a YAML job file with schedule:, got a ${extname(file) || 'file without extension'}`,
      ],
    };
  }
  const text = await readFile(file, 'utf8');
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    return {
      kind: 'invalid',
      messages: [
        `${display}: not valid YAML, so its schedule cannot be read: ${doc.errors[0]!.message.split('\n')[0]}`,
      ],
    };
  }
  if (!isMap(doc.contents) || !doc.contents.has('schedule')) return { kind: 'ignored' };
  const plan = await loadPlan(file, { cwd });
  const errors = plan.problems.filter((p) => p.severity === 'error');
  const placing = errors.filter((p) => isPlacingProblem(p, display));
  if (placing.length > 0 || !plan.job.schedule) {
    return { kind: 'invalid', messages: placing.map((p) => p.message) };
  }
  const job: ScheduledJob = {
    name: plan.job.name,
    file,
    display,
    schedule: plan.job.schedule,
    placement: placementOf(plan.job, cwd),
  };
  if (plan.job.timezone) job.timezone = plan.job.timezone;
  if (plan.job.out) job.out = plan.job.out;
  return { kind: 'scheduled', job, taskProblems: errors.map((p) => p.message) };
}

/** A problem in the settings that place the job in time or on disk (not in its tasks). */
export function isPlacingProblem(problem: Problem, jobFile: string): boolean {
  if (problem.kind === 'yaml-syntax' || problem.kind === 'encoding') return problem.location.file === jobFile;
  const top = problem.location.path?.split(/[.[]/)[0];
  return top !== undefined && PLACING_SETTINGS.includes(top);
}
