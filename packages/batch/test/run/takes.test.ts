import { describe, expect, it } from 'vitest';
import { taskKey } from '../../src/manifest/identity.js';
import type { Plan, PlannedTask } from '../../src/manifest/types.js';
import { sessionTakes, unknownRetakes } from '../../src/run/takes.js';
import type { JournalRecord } from '../../src/state/records.js';
import { RunState, type TaskPhase } from '../../src/state/run-state.js';
import { frames, load, testdir } from '../manifest/_helpers.js';

const AT = '2026-11-23T00:00:00.000Z';

async function plan(rows = ['a,a.png,b.png,first,', 'b,b.png,c.png,second,']): Promise<Plan> {
  const dir = await testdir({
    ...frames(),
    'm.csv': ['id,image,last_image,prompt,take', ...rows].join('\n'),
  });
  return load(dir, 'm.csv');
}

/** The records that bring a planned task to `phase`. */
function records(task: PlannedTask, phase: TaskPhase, retake = false): JournalRecord[] {
  const key = task.key;
  const list: JournalRecord[] = [
    {
      t: 'planned',
      key,
      id: task.id,
      at: AT,
      params: { ...task.params },
      image: { display: 'a' },
      last_image: { display: 'b' },
      ...((task.take ?? 1) > 1 ? { take: task.take } : {}),
      ...(retake ? { retake: true as const } : {}),
    },
  ];
  if (phase === 'planned') return list;
  list.push({ t: 'intent', key, n: 1, at: AT });
  if (phase === 'unknown') return list;
  list.push({ t: 'submitted', key, n: 1, taskId: `t-${key}`, at: AT, attempts: 1 });
  if (phase === 'failed')
    list.push({
      t: 'failed',
      key,
      at: AT,
      stage: 'poll',
      error: { code: 'E_TASK_FAILED', message: 'no', retryable: false },
      attempts: 1,
    });
  if (phase === 'failed' || phase === 'submitted') return list;
  list.push({ t: 'completed', key, taskId: `t-${key}`, urls: ['u'], at: AT, attempts: 1 });
  if (phase === 'completed') return list;
  list.push({
    t: 'downloaded',
    key,
    index: 0,
    path: 'p',
    url: 'u',
    sha256: 's',
    bytes: 1,
    at: AT,
    attempts: 1,
  });
  return list;
}

function stateOf(...lists: JournalRecord[][]): RunState {
  const state = new RunState();
  for (const r of lists.flat()) state.apply(r);
  return state;
}

const takeOf = (row: PlannedTask, take: number): PlannedTask => ({
  ...row,
  key: taskKey(row.params, row.image, row.last_image, take),
  take,
  retake: true,
});

describe('--retake', () => {
  it('starts take 2 of a finished shot: same row, its own key, nothing else added', async () => {
    const p = await plan();
    const [a, b] = p.tasks;
    const state = stateOf(records(a!, 'succeeded'), records(b!, 'succeeded'));
    expect(sessionTakes(p, state).plan).toBe(p);
    const { plan: next, retakes } = sessionTakes(p, state, ['a', 'a']);
    expect(retakes).toEqual([{ id: 'a', take: 2, started: true }]);
    expect(next.tasks).toHaveLength(3);
    expect(next.tasks[2]).toEqual(takeOf(a!, 2));
    expect(next.tasks[2]!.params).toEqual(a!.params);
  });

  it('starts the next take after a failed one too', async () => {
    const p = await plan();
    const a = p.tasks[0]!;
    const state = stateOf(records(a, 'succeeded'), records(takeOf(a, 2), 'failed', true));
    expect(sessionTakes(p, state, ['a']).retakes).toEqual([{ id: 'a', take: 3, started: true }]);
  });

  it.each(['planned', 'unknown', 'submitted', 'completed'] as TaskPhase[])(
    'continues an unfinished (%s) newest take instead of paying for another',
    async (phase) => {
      const p = await plan();
      const a = p.tasks[0]!;
      const state = stateOf(records(a, 'succeeded'), records(takeOf(a, 2), phase, true));
      const { plan: next, retakes } = sessionTakes(p, state, ['a']);
      expect(retakes).toEqual([{ id: 'a', take: 2, started: false, phase }]);
      // The earlier retake stays in the plan, so the session drives it.
      expect(next.tasks.map((t) => [t.id, t.take])).toEqual([
        ['a', 1],
        ['b', 1],
        ['a', 2],
      ]);
    },
  );

  it('continues take 1 that has not run yet, and a take the manifest asks for', async () => {
    const p = await plan(['a,a.png,b.png,first,', 'b,b.png,c.png,second,', 'b,b.png,c.png,second,2']);
    const [a, b] = p.tasks;
    const state = stateOf(records(b!, 'succeeded'));
    expect(sessionTakes(p, state, ['a', 'b']).retakes).toEqual([
      { id: 'a', take: 1, started: false, phase: 'planned' },
      { id: 'b', take: 2, started: false, phase: 'planned' },
    ]);
    expect(a!.take).toBe(1);
  });

  it('keeps earlier retakes in later plans while their row is unchanged, and drops them when it was edited', async () => {
    const p = await plan();
    const a = p.tasks[0]!;
    const state = stateOf(records(a, 'succeeded'), records(takeOf(a, 2), 'succeeded', true));
    expect(sessionTakes(p, state).plan.tasks.map((t) => t.key)).toEqual([
      ...p.tasks.map((t) => t.key),
      takeOf(a, 2).key,
    ]);

    const edited = await plan(['a,a.png,b.png,first edited,', 'b,b.png,c.png,second,']);
    expect(sessionTakes(edited, state).plan).toBe(edited);
    // The next take is of the row as it is now, numbered after every take the shot had.
    const { plan: next, retakes } = sessionTakes(edited, state, ['a']);
    expect(retakes).toEqual([{ id: 'a', take: 3, started: true }]);
    expect(next.tasks.at(-1)).toEqual(takeOf(edited.tasks[0]!, 3));
  });

  it('does not wait for a take that nothing will send any more (its row was edited before it was sent)', async () => {
    const p = await plan();
    const a = p.tasks[0]!;
    const state = stateOf(records(a, 'succeeded'), records(takeOf(a, 2), 'planned', true));
    const edited = await plan(['a,a.png,b.png,first edited,', 'b,b.png,c.png,second,']);
    expect(sessionTakes(edited, state, ['a']).retakes).toEqual([{ id: 'a', take: 3, started: true }]);
  });

  it('refuses an id the manifest does not have, with the likely one', async () => {
    const p = await plan();
    expect(unknownRetakes(p, ['a', 'bb', 'zzz'])).toEqual([
      '--retake bb: expected the id of a task in the manifest, got "bb" (did you mean "b"?): a take is made from its shot\'s row',
      '--retake zzz: expected the id of a task in the manifest, got "zzz": a take is made from its shot\'s row',
    ]);
    expect(() => sessionTakes(p, new RunState(), ['zzz'])).toThrow(/--retake zzz/);
  });
});
