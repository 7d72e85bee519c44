import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeClock, result, start, stateOf, submitTask, tempDir } from './_helpers.js';

async function taskFilePath(): Promise<string> {
  return join(await tempDir('flf2v-sim-tasks-'), 'state', 'simulator-tasks.jsonl');
}

describe('taskFile: tasks outlive the simulator process', () => {
  it('a restarted simulator answers for the tasks the earlier one accepted, in the state their times give', async () => {
    const t = fakeClock();
    const taskFile = await taskFilePath();
    const timings = { pendingMs: 1000, runningMs: 4000 };
    const first = await start({ clock: t.clock, timings, taskFile, failPattern: 'doomed' });
    const ok = await submitTask(first);
    const doomed = await submitTask(first, { prompt: 'doomed from the start' });
    await first.close();
    // A kill in the middle of a write leaves a line cut short; it is skipped, and does not swallow the next.
    await appendFile(taskFile, '{"id":"cut-sh');

    t.advance(3000);
    const second = await start({ clock: t.clock, timings, taskFile, failPattern: 'doomed' });
    expect(second.ledger().tasks).toMatchObject({ restored: 2, total: 0 });
    expect(await stateOf(second, ok)).toEqual({ status: 'RUNNING', progress: '50%' });
    t.advance(2000);
    expect(await stateOf(second, ok)).toEqual({ status: 'COMPLETED', progress: '100%' });
    expect((await result(second, ok)).body.data.urls[0]).toMatch(
      new RegExp(`^${second.url}/videos/${ok}/0\\.mp4`),
    );
    expect(await stateOf(second, doomed)).toMatchObject({ status: 'FAILED' });

    // The same seed draws the same ids again; a restored id is never handed out twice.
    const fresh = await submitTask(second);
    expect([ok, doomed]).not.toContain(fresh);
    await second.close();

    const lines = (await readFile(taskFile, 'utf8')).split('\n').filter((l) => l.endsWith('}'));
    expect(lines.map((l) => JSON.parse(l).id)).toEqual([ok, doomed, fresh]);
    const third = await start({ clock: t.clock, timings, taskFile });
    expect(third.ledger().tasks.restored).toBe(3);
  });
});
