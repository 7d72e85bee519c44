import { readFile } from 'node:fs/promises';

let fixture: Promise<Buffer> | undefined;

/** The shipped clip (1 s, 160x90, h264): read once per process. */
export function loadFixtureClip(): Promise<Buffer> {
  fixture ??= readFile(new URL('../assets/clip.mp4', import.meta.url));
  return fixture;
}

/**
 * `base` plus a trailing MP4 `free` box naming the task and index: players skip `free` boxes, so the file stays
 * playable while every video's bytes (and sha256) are unique.
 */
export function uniqueVideo(base: Buffer, taskId: string, index: number): Buffer {
  const payload = Buffer.from(`flf2v-simulator:${taskId}:${index}`, 'utf8');
  const box = Buffer.allocUnsafe(8 + payload.length);
  box.writeUInt32BE(box.length, 0);
  box.write('free', 4, 'latin1');
  payload.copy(box, 8);
  return Buffer.concat([base, box]);
}
