import { takeOf, takeStem } from '../manifest/take.js';
import type { TaskState } from '../state/run-state.js';

/**
 * Where a task's videos go, relative to the run directory: `videos/<id>.mp4`, a later take's
 * `videos/<id>~take<n>.mp4`, or `…-<i>.mp4` (i from 1) when the task yields several. An edited row is a new task
 * with the same id and take; its videos must not replace the earlier task's paid-for files, so only the task that
 * first used that id and take in this directory (its owner) gets the plain name, and a later one's names carry a
 * short key: `videos/<id>~<key8>.mp4`, `videos/<id>~take2~<key8>.mp4`.
 */
export function videoPath(
  task: TaskState,
  index: number,
  count: number,
  owners: ReadonlyMap<string, string>,
): string {
  const existing = task.videos[index];
  if (existing) return existing.path;
  const name = takeStem(task.id, takeOf(task));
  const owner = owners.get(name);
  const stem = owner === undefined || owner === task.key ? name : `${name}~${task.key.slice(0, 8)}`;
  return count > 1 ? `videos/${stem}-${index + 1}.mp4` : `videos/${stem}.mp4`;
}

/** The first task (by planning time) to use each id and take, by `takeStem` (a take 1's stem is its id). */
export function idOwners(tasks: Iterable<TaskState>): Map<string, string> {
  const owners = new Map<string, { key: string; at: string }>();
  for (const t of tasks) {
    const name = takeStem(t.id, takeOf(t));
    const o = owners.get(name);
    if (!o || t.plannedAt < o.at) owners.set(name, { key: t.key, at: t.plannedAt });
  }
  return new Map([...owners].map(([name, o]) => [name, o.key]));
}
