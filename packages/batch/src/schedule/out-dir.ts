import { stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { expandOutTemplate } from '../manifest/out.js';
import type { Placement } from './types.js';

/**
 * Where a scheduled job's runs go. Every firing gets its own directory below one history root:
 * - no `out:` → `runs/<name>/<date>_<time>` (relative to the working directory, like `flf2v run`);
 * - `out:` without a placeholder → `<out>/<date>_<time>`: `out` is the history root;
 * - `out:` with `{date}`/`{time}` → the expanded template; the history root is the directory above the first
 *   path segment holding a placeholder (`runs/nightly/{date}` → `runs/nightly`); a second firing that expands
 *   to an existing directory (twice the same day with `{date}`) continues it, as `flf2v run --out` would.
 * A stamped directory that exists already (two firings in one second, across a restart) gets `-2`, `-3`…
 */

export const STAMP_TEMPLATE = '{date}_{time}';
const PLACEHOLDER = /\{(?:date|time)\}/;

export function placementOf(job: { name: string; out?: string }, cwd = process.cwd()): Placement {
  if (!job.out) {
    const root = resolve(cwd, 'runs', job.name);
    return { root, template: join(root, STAMP_TEMPLATE), depth: 1, ownStamp: true };
  }
  const out = resolve(cwd, job.out);
  const at = out.search(PLACEHOLDER);
  if (at < 0) return { root: out, template: join(out, STAMP_TEMPLATE), depth: 1, ownStamp: true };
  // The segment holding the placeholder may have text before it (`night-{date}`): step above it.
  const root = dirname(`${out.slice(0, at)}_`);
  return { root, template: out, depth: relative(root, out).split(sep).length, ownStamp: false };
}

/** The run directory of a firing at `at` (absolute). */
export function runDirAt(placement: Placement, at: Date, timeZone?: string): string {
  return expandOutTemplate(placement.template, at, timeZone);
}

/** `2026-02-02_020000`: a firing's name, in the job's zone. */
export function firingStamp(at: Date, timeZone?: string): string {
  return expandOutTemplate(STAMP_TEMPLATE, at, timeZone);
}

/** A path below the history root as stored in the history: relative, `/`-separated. */
export function relativeToRoot(root: string, path: string): string {
  return relative(root, path).split(sep).join('/') || '.';
}

export function fromRoot(root: string, rel: string): string {
  return resolve(root, ...rel.split('/'));
}

/** `dir` if nothing is there yet, else the first free `dir-2`, `dir-3`… */
export async function freshDir(dir: string): Promise<string> {
  const taken = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );
  if (!(await taken(dir))) return dir;
  let n = 2;
  while (await taken(`${dir}-${n}`)) n++;
  return `${dir}-${n}`;
}
