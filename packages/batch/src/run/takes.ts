import { usageError } from '../errors.js';
import { didYouMean } from '../manifest/_suggest.js';
import { taskKey } from '../manifest/identity.js';
import { takeOf } from '../manifest/take.js';
import type { Plan, PlannedTask } from '../manifest/types.js';
import type { RunState, TaskPhase, TaskState } from '../state/run-state.js';

/**
 * A session's plan with its takes: the manifest's tasks, the takes earlier `--retake`s started (for as long as
 * the row each was made from is unchanged), and the takes this session's `--retake` starts.
 *
 * `--retake ID` is safe to repeat. The shot's newest take (the highest take number in the run directory or the
 * manifest) is continued while it is unfinished — still to be sent, at the provider, or unknown (it may have
 * reached the provider: never paid for twice silently) — and only once it has finished (succeeded or failed)
 * does `--retake` start the next take, from the manifest's row for the shot (the row of its highest take). The
 * take started is journaled with its task (`planned`, `take`, `retake`) before anything is sent, so a session
 * killed at any point is continued by the same command; a session killed before that record is durable sent
 * nothing, and the same command starts the same take again.
 */
export interface SessionTakes {
  /** The plan to run: `plan` itself when no take was added. */
  plan: Plan;
  /** What each `--retake` id did, in the order given. */
  retakes: RetakeOutcome[];
}

export interface RetakeOutcome {
  id: string;
  take: number;
  /** True: a new take was started; false: take `take` had not finished and is continued. */
  started: boolean;
  /** The continued take's phase (`planned` for one not yet sent). */
  phase?: TaskPhase;
}

/**
 * The session's plan (see `SessionTakes`). Reads `state`, writes nothing: the pipeline journals the tasks it adds.
 * @throws BatchError `E_USAGE` for a `--retake` id that names no task of the plan
 */
export function sessionTakes(plan: Plan, state: RunState, retake: readonly string[] = []): SessionTakes {
  const earlier = [...state.tasks.values()].filter((t) => t.retake);
  if (retake.length === 0 && earlier.length === 0) return { plan, retakes: [] };
  const rows = rowsById(plan.tasks);
  const planned = new Map(plan.tasks.map((t) => [t.key, t]));
  const added: PlannedTask[] = [];
  const add = (task: PlannedTask) => {
    added.push(task);
    planned.set(task.key, task);
    rows.get(task.id)!.push(task);
  };
  for (const task of earlier) {
    if (planned.has(task.key)) continue;
    const row = rows.get(task.id)?.find((r) => takeKey(r, takeOf(task)) === task.key);
    if (row) add(retakeOf(row, takeOf(task)));
  }
  const retakes: RetakeOutcome[] = [];
  const stateById = tasksById(state, new Set(retake));
  for (const id of new Set(retake)) {
    const shot = rows.get(id);
    if (!shot) throw usageError(`--retake ${id}: ${unknownId(id, rows)}`);
    const inState = stateById.get(id) ?? [];
    const newest = Math.max(...shot.map(takeOf), ...inState.map(takeOf));
    const open = unfinished(
      shot.filter((t) => takeOf(t) === newest && !state.tasks.has(t.key)),
      inState.filter((t) => takeOf(t) === newest),
      planned,
    );
    if (open) {
      retakes.push({ id, take: newest, started: false, phase: open });
      continue;
    }
    const row = shot.reduce((a, b) => (takeOf(b) > takeOf(a) ? b : a));
    add(retakeOf(row, newest + 1));
    retakes.push({ id, take: newest + 1, started: true });
  }
  return { plan: added.length === 0 ? plan : { ...plan, tasks: [...plan.tasks, ...added] }, retakes };
}

/**
 * The phase of a take that has not finished, if one has not: `toPlan`, its tasks this session plans anew;
 * `known`, those the run directory has. Undefined when it finished (succeeded or failed).
 */
function unfinished(
  toPlan: readonly PlannedTask[],
  known: readonly TaskState[],
  planned: ReadonlyMap<string, PlannedTask>,
): TaskPhase | undefined {
  if (toPlan.length > 0) return 'planned';
  for (const task of known) {
    // Not yet sent and no longer planned (its row was edited or removed): nothing will ever send it.
    if (task.phase === 'planned' && !planned.has(task.key)) continue;
    if (task.phase !== 'succeeded' && task.phase !== 'failed') return task.phase;
  }
  return undefined;
}

function retakeOf(row: PlannedTask, take: number): PlannedTask {
  return { ...row, key: takeKey(row, take), take, retake: true };
}

function takeKey(row: PlannedTask, take: number): string {
  return taskKey(row.params, row.image, row.last_image, take);
}

function rowsById(tasks: readonly PlannedTask[]): Map<string, PlannedTask[]> {
  const rows = new Map<string, PlannedTask[]>();
  for (const t of tasks) {
    const list = rows.get(t.id);
    if (list) list.push(t);
    else rows.set(t.id, [t]);
  }
  return rows;
}

function tasksById(state: RunState, ids: ReadonlySet<string>): Map<string, TaskState[]> {
  const byId = new Map<string, TaskState[]>();
  for (const t of state.tasks.values()) {
    if (!ids.has(t.id)) continue;
    const list = byId.get(t.id);
    if (list) list.push(t);
    else byId.set(t.id, [t]);
  }
  return byId;
}

/**
 * `--retake` ids that name no task of `plan`, each with what to do (`E_USAGE` material); empty when all do.
 * Checked before anything is read or sent.
 */
export function unknownRetakes(plan: Plan, retake: readonly string[]): string[] {
  if (retake.length === 0) return [];
  const rows = rowsById(plan.tasks);
  return [...new Set(retake)]
    .filter((id) => !rows.has(id))
    .map((id) => `--retake ${id}: ${unknownId(id, rows)}`);
}

function unknownId(id: string, rows: ReadonlyMap<string, unknown>): string {
  return `expected the id of a task in the manifest, got ${JSON.stringify(id)}${didYouMean(id, [...rows.keys()])}: a take is made from its shot's row`;
}
