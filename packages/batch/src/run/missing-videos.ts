import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskState } from '../state/run-state.js';

/**
 * The videos of a finished task that are not on disk as they were downloaded: the file is gone, or its size is
 * not the size verified then (cut short, replaced). Returns their indexes (0-based); `outDir` is the run
 * directory the recorded paths are relative to. Sizes only: hashing every video of a large run at every start
 * would cost minutes.
 */
export async function missingVideos(task: TaskState, outDir: string): Promise<number[]> {
  const missing: number[] = [];
  for (const [index, video] of task.videos.entries()) {
    if (!video) continue;
    const size = await stat(join(outDir, video.path)).then(
      (s) => (s.isFile() ? s.size : -1),
      () => -1,
    );
    if (size !== video.bytes) missing.push(index);
  }
  return missing;
}
