import { constants } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameRef, Plan } from '../manifest/types.js';
import type { FrameRecord } from '../state/records.js';
import { localIoError } from '../util/local-io.js';

/** A frame as the journal remembers it: enough to show it in a report and to find its upload again. */
function frameRecord(frame: FrameRef): FrameRecord {
  return frame.kind === 'file'
    ? { display: frame.display, path: frame.path, sha256: frame.sha256 }
    : { display: frame.url, url: frame.url };
}

/**
 * Copy frames of the plan into `outDir/frames/<sha256>.<png|jpg>` (once: a name is its content) and return how
 * each frame is recorded — by its copy when it has one. `prepared`: only frames flf2v made (converted, turned,
 * fitted; they live in a cache that may be cleared), so the reports show what was sent; `all`: every file frame,
 * for workers on other machines that see the run directory but not the manifest's folders.
 * @throws Flf2vError `E_LOCAL_IO`
 */
export async function copyFrames(
  plan: Plan,
  outDir: string,
  which: 'prepared' | 'all',
): Promise<(frame: FrameRef) => FrameRecord> {
  const dir = join(outDir, 'frames');
  const copies = new Map<string, string>();
  try {
    for (const task of plan.tasks) {
      for (const frame of [task.image, task.last_image]) {
        if (frame.kind !== 'file' || copies.has(frame.sha256)) continue;
        if (which === 'prepared' && !frame.prepared) continue;
        if (copies.size === 0) await mkdir(dir, { recursive: true });
        const dest = join(dir, `${frame.sha256}.${frame.format === 'png' ? 'png' : 'jpg'}`);
        await copyFile(frame.path, dest, constants.COPYFILE_EXCL).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
        });
        copies.set(frame.sha256, dest);
      }
    }
  } catch (error) {
    throw localIoError(`cannot copy the frames into ${dir}`, error);
  }
  return (frame) => {
    const record = frameRecord(frame);
    const copy = frame.kind === 'file' ? copies.get(frame.sha256) : undefined;
    return copy ? { ...record, path: copy } : record;
  };
}
