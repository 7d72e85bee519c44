import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
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
        await placeCopy(frame.path, dest, frame.bytes);
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

/**
 * Copy `src` to `dest` whole or not at all: through a temp file renamed into place, so that a copy cut short (a
 * killed producer) or one being made by another producer this moment is never taken for the frame. A `dest` of
 * the right size is the frame already (its name is its content); one of another size is a cut copy, replaced.
 */
async function placeCopy(src: string, dest: string, bytes: number): Promise<void> {
  if ((await stat(dest).catch(() => undefined))?.size === bytes) return;
  const temp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await copyFile(src, temp);
    await rename(temp, dest);
  } finally {
    await rm(temp, { force: true });
  }
}
