import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DoneIndex } from '../../src/schedule/done-index.js';
import { filterPlan } from '../../src/schedule/incremental.js';
import { placementOf } from '../../src/schedule/out-dir.js';
import { findRunDirs } from '../../src/schedule/run-dirs.js';
import { readRunOutcomes } from '../../src/schedule/run-outcomes.js';
import { lifecycle, planned } from '../state/_fixtures.js';
import { planOf, runDirWith, task, tempDir } from './_helpers.js';

const AT = '2026-11-23T00:00:01.000Z';
const ERR = { code: 'E_SUBMIT_UNKNOWN' as const, message: 'x', retryable: false };

describe('earlier runs of a job', () => {
  it("reads a run directory's succeeded and still-open keys from its journal, read-only", async () => {
    const dir = await runDirWith(join(await tempDir(), 'run'), 'nightly', [
      ...lifecycle('done'),
      planned('unsent'),
      planned('sending'),
      { t: 'intent', key: 'sending', n: 1, at: AT },
      planned('running'),
      { t: 'intent', key: 'running', n: 1, at: AT },
      { t: 'submitted', key: 'running', n: 1, taskId: 't1', at: AT, attempts: 1 },
      planned('ambiguous'),
      { t: 'intent', key: 'ambiguous', n: 1, at: AT },
      { t: 'unknown', key: 'ambiguous', n: 1, at: AT, error: ERR },
      planned('failed'),
      { t: 'failed', key: 'failed', at: AT, stage: 'submit', error: ERR, attempts: 1 },
    ]);
    const outcomes = await readRunOutcomes(dir);
    expect(outcomes.job).toBe('nightly');
    expect(outcomes.succeeded).toEqual(['done']);
    expect(outcomes.held.sort()).toEqual(['ambiguous', 'running', 'sending']);
    // Only the task with a taskId can be finished by continuing that directory; the others never resend.
    expect(outcomes.resumable).toBe(1);
  });

  it("falls back to the run's report.json when its journal is damaged", async () => {
    const dir = await runDirWith(join(await tempDir(), 'run'), 'nightly', lifecycle('a'));
    await appendFile(join(dir, 'state', 'journal.jsonl'), 'garbage\n{"t":"stats"}\n');
    await expect(readRunOutcomes(dir)).rejects.toMatchObject({ code: 'E_JOURNAL_CORRUPT' });
    await writeFile(
      join(dir, 'report.json'),
      JSON.stringify({
        run: { name: 'nightly' },
        tasks: [
          { key: 'a', status: 'succeeded' },
          { key: 'b', status: 'unknown', submissions: 1 },
          { key: 'c', status: 'failed', taskId: 'x' },
          { key: 'd', status: 'pending', submissions: 0 },
        ],
      }),
    );
    expect(await readRunOutcomes(dir)).toEqual({
      job: 'nightly',
      succeeded: ['a'],
      held: ['b'],
      resumable: 0,
    });
  });

  it('finds the run directories at the depth of the template, and the root when it is one', async () => {
    const root = join(await tempDir(), 'runs', 'nightly');
    await runDirWith(join(root, '2026-02-01'), 'nightly', lifecycle('a'));
    await runDirWith(join(root, '2026-02-02'), 'nightly', lifecycle('b'));
    await mkdir(join(root, 'not-a-run'), { recursive: true });
    await runDirWith(join(root, '.schedule'), 'nightly', lifecycle('hidden'));
    const p = placementOf({ name: 'nightly', out: join(root, '{date}') });
    expect(await findRunDirs(p)).toEqual([join(root, '2026-02-01'), join(root, '2026-02-02')]);
    await runDirWith(root, 'nightly', lifecycle('c'));
    expect(await findRunDirs(p)).toEqual([root, join(root, '2026-02-01'), join(root, '2026-02-02')]);
    const nested = placementOf({ name: 'nightly', out: join(root, '{date}', '{time}') });
    await runDirWith(join(root, '2026-02-03', '020000'), 'nightly', lifecycle('d'));
    expect(await findRunDirs(nested)).toEqual([root, join(root, '2026-02-03', '020000')]);
  });
});

describe('the per-job index of earlier runs', () => {
  it('reads each run directory once, then only the ones whose state changed', async () => {
    const root = await tempDir();
    const a = await runDirWith(join(root, 'a'), 'nightly', lifecycle('k1'));
    const b = await runDirWith(join(root, 'b'), 'nightly', [planned('k2')]);
    const index = await DoneIndex.open(root, 'nightly');
    expect((await index.refresh([a, b])).read).toEqual(['a', 'b']);
    expect((await index.refresh([a, b])).read).toEqual([]);
    // Someone resumed b by hand and it finished.
    await runDirWith(b, 'nightly', lifecycle('k2').slice(1));
    expect((await index.refresh([a, b])).read).toEqual(['b']);
    expect([...index.earlier().succeeded.keys()].sort()).toEqual(['k1', 'k2']);
    // The cache survives a restart: nothing is read again.
    const reopened = await DoneIndex.open(root, 'nightly');
    expect((await reopened.refresh([a, b])).read).toEqual([]);
    expect([...reopened.earlier().succeeded.keys()].sort()).toEqual(['k1', 'k2']);
  });

  it('forgets a deleted run directory, leaves out the current one and other jobs', async () => {
    const root = await tempDir();
    const a = await runDirWith(join(root, 'a'), 'nightly', lifecycle('k1'));
    const b = await runDirWith(join(root, 'b'), 'nightly', [
      ...lifecycle('k2'),
      planned('k3'),
      { t: 'intent', key: 'k3', n: 1, at: AT },
    ]);
    const other = await runDirWith(join(root, 'c'), 'another-job', lifecycle('k4'));
    const index = await DoneIndex.open(root, 'nightly');
    await index.refresh([a, b, other]);
    const all = index.earlier();
    expect([...all.succeeded.keys()].sort()).toEqual(['k1', 'k2']);
    expect([...all.held]).toEqual([['k3', 'b']]);
    expect([...index.earlier('b').succeeded.keys()]).toEqual(['k1']);
    await index.refresh([b]);
    expect([...index.earlier().succeeded.keys()]).toEqual(['k2']);
  });

  it('a key that succeeded anywhere is done, even if another run still holds it', async () => {
    const root = await tempDir();
    const a = await runDirWith(join(root, 'a'), 'nightly', [
      planned('k'),
      { t: 'intent', key: 'k', n: 1, at: AT },
    ]);
    const b = await runDirWith(join(root, 'b'), 'nightly', lifecycle('k'));
    const index = await DoneIndex.open(root, 'nightly');
    await index.refresh([a, b]);
    expect(index.earlier().held.size).toBe(0);
    expect(index.earlier().succeeded.get('k')).toBe('b');
  });
});

describe('the incremental filter', () => {
  it('keeps new and failed tasks, leaves out succeeded and still-open ones, and counts them', () => {
    const plan = planOf([task('new1'), task('done'), task('open'), task('new2')]);
    const result = filterPlan(plan, {
      succeeded: new Map([['done', 'a']]),
      held: new Map([['open', 'b']]),
    });
    expect(result.plan.tasks.map((t) => t.key)).toEqual(['new1', 'new2']);
    expect(result.plan.summary).toMatchObject({ tasks: 2, videos: 2, seconds: 10 });
    expect(result.succeededEarlier).toBe(1);
    expect(result.heldEarlier).toEqual([{ id: 'open', key: 'open', dir: 'b' }]);
    expect(plan.tasks).toHaveLength(4);
  });

  it('returns the plan itself when nothing was done before', () => {
    const plan = planOf([task('a')]);
    expect(filterPlan(plan, { succeeded: new Map(), held: new Map() }).plan).toBe(plan);
  });
});
