import type { TaskState } from '../state/run-state.js';

/**
 * Where a task's videos go, relative to the run directory: `videos/<id>.mp4`, or `videos/<id>-<n>.mp4` (n from
 * 1) when the task yields several. An edited row is a new task with the same id; its videos must not replace
 * the earlier task's paid-for files, so only the task that first used an id in this directory (its owner) gets
 * the plain name, and a later one's names carry a short key: `videos/<id>~<key8>.mp4`.
 */
export function videoPath(
  task: TaskState,
  index: number,
  count: number,
  idOwners: ReadonlyMap<string, string>,
): string {
  const existing = task.videos[index];
  if (existing) return existing.path;
  const owner = idOwners.get(task.id);
  const stem = owner === undefined || owner === task.key ? task.id : `${task.id}~${task.key.slice(0, 8)}`;
  return count > 1 ? `videos/${stem}-${index + 1}.mp4` : `videos/${stem}.mp4`;
}

/** The first task (by planning time) to use each id. */
export function idOwners(tasks: Iterable<TaskState>): Map<string, string> {
  const owners = new Map<string, { key: string; at: string }>();
  for (const t of tasks) {
    const o = owners.get(t.id);
    if (!o || t.plannedAt < o.at) owners.set(t.id, { key: t.key, at: t.plannedAt });
  }
  return new Map([...owners].map(([id, o]) => [id, o.key]));
}
