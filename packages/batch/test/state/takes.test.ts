import { describe, expect, it } from 'vitest';
import { idOwners, videoPath } from '../../src/run/video-paths.js';
import { openFileStore, replay } from '../../src/state/file-store.js';
import type { JournalRecord } from '../../src/state/records.js';
import { RunState } from '../../src/state/run-state.js';
import { CREATE, planned, tempDir } from './_fixtures.js';

const at = (s: number) => `2026-11-23T00:00:0${s}.000Z`;

function take(key: string, id: string, n: number, s = 1): JournalRecord {
  return {
    ...(planned(key, id) as Extract<JournalRecord, { t: 'planned' }>),
    at: at(s),
    take: n,
    retake: true,
  };
}

describe('takes in the run state', () => {
  it('keeps each task’s take and each shot’s chosen take through the journal and a snapshot', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE });
    store.append({
      t: 'session',
      n: 1,
      at: at(0),
      tool: 't',
      manifestHash: 'm',
      manifest: 'j',
      pid: 1,
      host: 'h',
      limits: {},
    });
    store.append(planned('k1', 'shot'));
    store.append(take('k2', 'shot', 2, 2));
    store.append({ t: 'chosen', id: 'shot', take: 2, at: at(3) });
    await store.close();

    const { state } = await replay(dir);
    expect(state.tasks.get('k1')).not.toHaveProperty('take');
    expect(state.tasks.get('k2')).toMatchObject({ take: 2, retake: true });
    expect(state.chosen.get('shot')).toBe(2);
    // A choice is made between sessions: it is no session's time.
    expect(state.sessionSpans.get(1)).toEqual({ start: at(0), end: at(2) });

    const again = RunState.fromSnapshot(JSON.parse(JSON.stringify(state.toSnapshot(2))));
    expect(again.chosen.get('shot')).toBe(2);
    expect(again.tasks.get('k2')).toMatchObject({ take: 2, retake: true });
    // A snapshot without choices (every one written before takes) has none.
    expect(new RunState().toSnapshot(1)).not.toHaveProperty('chosen');
  });

  it('the latest choice wins, and applying it twice changes nothing', () => {
    const state = new RunState();
    for (const rec of [
      planned('k1', 'shot'),
      take('k2', 'shot', 2),
      { t: 'chosen', id: 'shot', take: 2, at: at(3) },
      { t: 'chosen', id: 'shot', take: 1, at: at(4) },
      { t: 'chosen', id: 'shot', take: 1, at: at(4) },
    ] as JournalRecord[])
      state.apply(rec);
    expect(state.chosen.get('shot')).toBe(1);
  });
});

describe('video paths of takes', () => {
  it('videos/<id>.mp4 for take 1, videos/<id>~take<n>.mp4 for later takes, a key for a later version', () => {
    const state = new RunState();
    for (const rec of [
      planned('k1aaaaaaaa', 'shot'),
      take('k2bbbbbbbb', 'shot', 2, 2),
      take('k3cccccccc', 'shot', 2, 3), // take 2 of an edited row
      { ...planned('k4dddddddd', 'shot'), at: at(4) }, // take 1 of an edited row
      {
        ...planned('k5eeeeeeee', 'other'),
        params: { ...(planned('x') as { params: object }).params, number_of_videos: 2 },
      },
    ] as JournalRecord[])
      state.apply(rec);
    const owners = idOwners(state.tasks.values());
    const path = (key: string, index = 0, count = 1) =>
      videoPath(state.tasks.get(key)!, index, count, owners);
    expect(path('k1aaaaaaaa')).toBe('videos/shot.mp4');
    expect(path('k2bbbbbbbb')).toBe('videos/shot~take2.mp4');
    expect(path('k3cccccccc')).toBe('videos/shot~take2~k3cccccc.mp4');
    expect(path('k4dddddddd')).toBe('videos/shot~k4dddddd.mp4');
    expect(path('k5eeeeeeee', 1, 2)).toBe('videos/other-2.mp4');
  });
});
