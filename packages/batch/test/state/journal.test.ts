import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openFileStore, replay, statePaths } from '../../src/state/file-store.js';
import { submissionsOf } from '../../src/state/run-state.js';
import { CREATE, lifecycle, planned, tempDir } from './_fixtures.js';

describe('state journal', () => {
  it('replays what was appended, in a fresh process-like read', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE });
    for (const r of lifecycle('k1')) store.append(r);
    store.append(planned('k2'));
    await store.appendDurable({ t: 'intent', key: 'k2', n: 1, at: 'now' });
    await store.close();

    const { state } = await replay(dir);
    expect(state.header?.job).toBe('test');
    expect(state.tasks.get('k1')?.phase).toBe('succeeded');
    // An intent without an answer is unknown, and counts as a submission.
    const k2 = state.tasks.get('k2');
    expect(k2?.phase).toBe('unknown');
    expect(k2 && submissionsOf(k2)).toBe(1);
  });

  it('a durable append is on disk when it resolves; many appends share one commit', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE, groupWindowMs: 60_000 });
    for (let i = 0; i < 500; i++) store.append(planned(`k${i}`));
    await store.appendDurable({ t: 'intent', key: 'k0', n: 1, at: 'now' });
    const text = await readFile(statePaths(dir).journal, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(502); // header + 500 planned + intent
    await store.close();
  });

  it('ignores a torn last line and cuts it off before appending again', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE });
    store.append(planned('k1'));
    await store.close();
    const { journal } = statePaths(dir);
    await appendFile(journal, '1234abcd {"t":"planned","key":"k2"'); // killed mid-write

    expect((await replay(dir)).state.tasks.size).toBe(1);
    const again = await openFileStore(dir);
    again.append(planned('k3'));
    await again.close();
    const { state } = await replay(dir);
    expect([...state.tasks.keys()]).toEqual(['k1', 'k3']);
  });

  it('refuses a journal damaged before its last line, naming the line; salvage keeps every valid record', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE });
    for (const k of ['k1', 'k2', 'k3']) store.append(planned(k));
    await store.close();
    const { journal } = statePaths(dir);
    const lines = (await readFile(journal, 'utf8')).split('\n');
    lines[2] = lines[2]!.replace('prompt k2', 'prompt k9'); // a bit flip that still parses as JSON
    await writeFile(journal, lines.join('\n'));

    await expect(replay(dir)).rejects.toMatchObject({
      code: 'E_JOURNAL_CORRUPT',
      message: expect.stringMatching(/line 3/),
    });
    await expect(openFileStore(dir)).rejects.toMatchObject({ code: 'E_JOURNAL_CORRUPT' });
    const salvaged = await replay(dir, { salvage: true });
    expect([...salvaged.state.tasks.keys()]).toEqual(['k1', 'k3']);
    expect(salvaged.salvaged?.skippedLines).toEqual([3]);
    // Replay only reads: the damaged line is still there.
    expect(await readFile(journal, 'utf8')).toBe(lines.join('\n'));

    // Opened with salvage: the damaged journal is kept beside a new one of the valid lines, which then opens
    // (and takes appends) without salvage.
    const told: { skippedLines: number[]; keptAt: string }[] = [];
    const reopened = await openFileStore(dir, { salvage: true, onSalvaged: (info) => told.push(info) });
    reopened.append(planned('k4'));
    await reopened.close();
    expect(told).toHaveLength(1);
    expect(told[0]!.skippedLines).toEqual([3]);
    expect(await readFile(told[0]!.keptAt, 'utf8')).toBe(lines.join('\n'));
    expect([...(await replay(dir)).state.tasks.keys()]).toEqual(['k1', 'k3', 'k4']);
  });

  it('compacts into a snapshot and keeps appending after it', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE });
    for (let i = 0; i < 50; i++) for (const r of lifecycle(`k${i}`)) store.append(r);
    await store.compact();
    store.append(planned('late'));
    await store.close();

    const { journal, snapshot } = statePaths(dir);
    expect((await stat(snapshot)).size).toBeGreaterThan(0);
    expect((await readFile(journal, 'utf8')).trim().split('\n')).toHaveLength(2); // header + late
    const { state } = await replay(dir);
    expect(state.tasks.size).toBe(51);
    expect(state.tasks.get('k49')?.phase).toBe('succeeded');
  });

  it('a crash between writing the snapshot and resetting the journal replays each record once', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE });
    for (const r of lifecycle('k1')) store.append(r);
    store.append({
      t: 'stats',
      session: 1,
      at: 'x',
      state: 'finished',
      stats: { upload: 2, submit: 1, status: 1, result: 1, download: 1, rateLimited: 0, retries: 0 },
    });
    await store.close();
    const { journal, snapshot } = statePaths(dir);
    const oldJournal = await readFile(journal);
    const s2 = await openFileStore(dir);
    await s2.compact();
    await s2.close();
    await writeFile(journal, oldJournal); // as if the journal reset never happened

    const { state, staleJournal } = await replay(dir);
    expect(staleJournal).toBe(true);
    expect(state.stats.upload).toBe(2);
    expect(JSON.parse(await readFile(snapshot, 'utf8')).generation).toBe(1);
  });

  it('is idempotent: a record applied twice changes nothing', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE });
    for (const r of [...lifecycle('k1'), ...lifecycle('k1')]) store.append(r);
    await store.close();
    const task = (await replay(dir)).state.tasks.get('k1');
    expect(task && submissionsOf(task)).toBe(1);
    expect(task?.phase).toBe('succeeded');
  });
});
