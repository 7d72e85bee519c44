import type { Plan, PlannedTask } from '../../src/manifest/types.js';
import { openFileStore } from '../../src/state/file-store.js';
import type { JournalRecord } from '../../src/state/records.js';

export { tempDir } from '../_temp.js';

/** A run directory of `job` holding exactly these journal records (written through the real store). */
export async function runDirWith(dir: string, job: string, records: JournalRecord[]): Promise<string> {
  const store = await openFileStore(dir, { create: { job, manifestHash: 'm', tool: 'flf2v/test' } });
  for (const r of records) store.append(r);
  await store.close();
  return dir;
}

export function task(key: string, id = key): PlannedTask {
  return {
    id,
    key,
    params: {
      selected_model: 'm',
      prompt: `prompt ${id}`,
      resolution: '720p',
      duration: 5,
      number_of_videos: 1,
    },
    image: { kind: 'url', url: 'https://example.com/a.png' },
    last_image: { kind: 'url', url: 'https://example.com/b.png' },
    source: { file: 'job.yaml' },
  };
}

export function planOf(tasks: PlannedTask[]): Plan {
  return {
    manifest: { path: '/jobs/job.yaml', format: 'yaml', hash: 'h' },
    job: { name: 'job', limits: {} },
    tasks,
    problems: [],
    summary: {
      tasks: tasks.length,
      videos: tasks.length,
      seconds: tasks.length * 5,
      framesToUpload: 0,
      urlFrames: 2,
      duplicateRows: 0,
      errors: 0,
      warnings: 0,
      defaults: {},
    },
  };
}
