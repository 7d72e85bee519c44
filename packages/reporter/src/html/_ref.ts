import type { TaskSummary } from '../types.js';

/**
 * How the page names one task in links (`#task=…`) and rows: its id, and for a later take `id~take<n>`, so that
 * a shot's takes open one at a time.
 */
export function taskRef(task: { id: string; take?: number }): string {
  return (task.take ?? 1) > 1 ? `${task.id}~take${task.take}` : task.id;
}

/** A `#task=…` link target. */
export function taskHref(task: { id: string; take?: number }): string {
  return `#${new URLSearchParams({ task: taskRef(task) }).toString()}`;
}

/** Shots with more than one take, each with its tasks in take order, in the order shots first appear. */
export function shotsWithTakes(tasks: readonly TaskSummary[]): TaskSummary[][] {
  const byId = new Map<string, TaskSummary[]>();
  for (const t of tasks) {
    const shot = byId.get(t.id);
    if (shot) shot.push(t);
    else byId.set(t.id, [t]);
  }
  return [...byId.values()]
    .filter((shot) => new Set(shot.map((t) => t.take ?? 1)).size > 1)
    .map((shot) => [...shot].sort((a, b) => (a.take ?? 1) - (b.take ?? 1)));
}

/**
 * A run-relative path as a relative URL (each segment encoded: `#` or a space must not end or break it); an
 * absolute one as file://.
 */
export function fileHref(path: string): string {
  const p = path.replace(/\\/g, '/');
  if (p.startsWith('/')) return `file://${p.split('/').map(encodeURIComponent).join('/')}`;
  if (/^[A-Za-z]:\//.test(p))
    return `file:///${p.slice(0, 2)}${p.slice(2).split('/').map(encodeURIComponent).join('/')}`;
  return p.split('/').map(encodeURIComponent).join('/');
}
