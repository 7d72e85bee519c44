import type { JournalRecord } from '../../src/state/records.js';

export { tempDir } from '../_temp.js';

export const CREATE = { job: 'test', manifestHash: 'm1', tool: 'flf2v/test' };

export function planned(key: string, id = key): JournalRecord {
  return {
    t: 'planned',
    key,
    id,
    at: '2026-11-23T00:00:00.000Z',
    params: {
      selected_model: 'm',
      prompt: `prompt ${id}`,
      resolution: '720p',
      duration: 5,
      number_of_videos: 1,
    },
    image: { display: 'a.png', sha256: 'aa' },
    last_image: { display: 'b.png', sha256: 'bb' },
  };
}

/** The records of one task's happy path. */
export function lifecycle(key: string): JournalRecord[] {
  const at = '2026-11-23T00:00:01.000Z';
  return [
    planned(key),
    { t: 'intent', key, n: 1, at },
    { t: 'submitted', key, n: 1, taskId: `t-${key}`, at, attempts: 1 },
    { t: 'completed', key, taskId: `t-${key}`, urls: [`http://x/${key}.mp4`], at, attempts: 3 },
    {
      t: 'downloaded',
      key,
      index: 0,
      path: `videos/${key}.mp4`,
      url: 'http://x',
      sha256: 'ff',
      bytes: 10,
      at,
      attempts: 4,
    },
  ];
}
