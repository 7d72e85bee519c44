import type { TaskSummary } from '@flf2v/reporter';

/**
 * The shots of a storyboard run in film order, from what the run directory records: each task's id, its two
 * frames, and the order tasks were first planned in. A storyboard's transitions chain — each starts on the frame
 * the one before it ended on — so the order is found by following that chain, not by sorting ids (ids can be
 * anything, and a task keeps the id it was planned under).
 *
 * A directory can also hold tasks of earlier versions of the storyboard. A task is superseded by one planned
 * after it under the same id that starts or ends on the same frame (an edited prompt, a replaced picture, a
 * frame inserted after it). The film is the chain through the most recently planned shot, extended both ways;
 * where two shots could continue it (a frame the storyboard visits twice), the one the storyboard lists next
 * is taken: first-planned position of its id, then its own. A chain that closes on itself (a day that ends
 * where it began) starts at its first-listed shot.
 */
export interface FilmOrder {
  shots: TaskSummary[];
  /** Tasks neither in the chain nor superseded: from an earlier version of the manifest, or not a storyboard. */
  leftOut: TaskSummary[];
}

/** `tasks` in planning order, as the run summary lists them. */
export function filmOrder(tasks: readonly TaskSummary[]): FilmOrder {
  const first = (t: TaskSummary) => t.frames?.image ?? t.request.image;
  const last = (t: TaskSummary) => t.frames?.last_image ?? t.request.last_image;
  const position = new Map(tasks.map((t, i) => [t, i]));
  const idPosition = new Map<string, number>();
  tasks.forEach((t, i) => {
    if (!idPosition.has(t.id)) idPosition.set(t.id, i);
  });
  const rank = (t: TaskSummary) => idPosition.get(t.id)! * tasks.length + position.get(t)!;

  const versions = groupBy(tasks, (t) => t.id);
  const live = tasks.filter((t) =>
    versions
      .get(t.id)!
      .every((u) => position.get(u)! <= position.get(t)! || (first(u) !== first(t) && last(u) !== last(t))),
  );
  const anchor = live.at(-1);
  if (anchor === undefined) return { shots: [], leftOut: [] };
  // In listing order, so that `pick` finds the nearest candidate by a scan.
  const listed = [...live].sort((a, b) => rank(a) - rank(b));
  const starting = groupBy(listed, first);
  const ending = groupBy(listed, last);
  const chain = [anchor];
  const used = new Set(chain);
  for (const side of ['before', 'after'] as const) {
    for (;;) {
      const end = side === 'before' ? chain[0]! : chain.at(-1)!;
      const joining = side === 'before' ? ending.get(first(end)) : starting.get(last(end));
      const next = pick(
        (joining ?? []).filter((t) => !used.has(t)),
        rank(end),
        rank,
        side,
      );
      if (!next) break;
      if (side === 'before') chain.unshift(next);
      else chain.push(next);
      used.add(next);
    }
  }
  if (chain.length > 1 && first(chain[0]!) === last(chain.at(-1)!)) {
    const start = chain.reduce((best, t, i) => (rank(t) < rank(chain[best]!) ? i : best), 0);
    chain.push(...chain.splice(0, start));
  }
  return { shots: chain, leftOut: live.filter((t) => !used.has(t)) };
}

/**
 * Of the shots that could continue the chain (in listing order), the one listed closest `side` of `at`; else
 * the nearest wrap.
 */
function pick(
  candidates: TaskSummary[],
  at: number,
  rank: (t: TaskSummary) => number,
  side: 'before' | 'after',
): TaskSummary | undefined {
  if (candidates.length <= 1) return candidates[0];
  if (side === 'after') return candidates.find((t) => rank(t) > at) ?? candidates[0];
  return candidates.findLast((t) => rank(t) < at) ?? candidates.at(-1);
}

function groupBy(tasks: readonly TaskSummary[], by: (t: TaskSummary) => string): Map<string, TaskSummary[]> {
  const groups = new Map<string, TaskSummary[]>();
  for (const t of tasks) {
    const group = groups.get(by(t));
    if (group) group.push(t);
    else groups.set(by(t), [t]);
  }
  return groups;
}
