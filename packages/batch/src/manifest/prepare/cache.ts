import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectImage } from '../image-check.js';
import type { RenderTarget } from './render.js';

/**
 * Prepared frames, kept by (source bytes, recipe): the same source prepared the same way is made once per
 * machine and is the same file, and so the same bytes and task key, on every later run. An entry is a picture
 * (`<key>.png` or `<key>.jpg`) and a note of what it is (`<key>.json`), the note written last: an entry whose
 * note exists is complete. A damaged entry is made again; losing the cache costs time, never correctness.
 */

/**
 * Bump when `render.ts` would make other bytes from the same source and target: every prepared frame (and so
 * the key of every task that uses one) changes with it.
 */
export const PREPARE_VERSION = 1;

export interface CachedFrame {
  path: string;
  bytes: Buffer;
  format: 'png' | 'jpeg';
  width: number;
  height: number;
  /** What fitting did beyond the recipe (see `Rendered.notes`). */
  notes: string[];
}

interface Note {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
  notes: string[];
}

const EXT = { png: 'png', jpeg: 'jpg' } as const;

/**
 * The identity of a prepared frame: the source's hash, the target, the recipe version, and the encoder's
 * versions (another libvips may encode other bytes, so it is another recipe).
 */
export function recipeKey(
  sourceSha256: string,
  target: RenderTarget,
  versions: { sharp: string; vips: string },
): string {
  const recipe = {
    v: PREPARE_VERSION,
    source: sourceSha256,
    maxSidePx: target.maxSidePx,
    maxBytes: target.maxBytes,
    exact: target.exact ?? null,
    sharp: versions.sharp,
    vips: versions.vips,
  };
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex');
}

export class PreparedFrameCache {
  constructor(readonly dir: string) {}

  async get(key: string): Promise<CachedFrame | undefined> {
    try {
      const note = JSON.parse(await readFile(join(this.dir, `${key}.json`), 'utf8')) as Note;
      const path = join(this.dir, `${key}.${EXT[note.format]}`);
      const bytes = await readFile(path);
      const check = inspectImage(bytes, note.format);
      if (!check.ok || check.facts.width !== note.width || check.facts.height !== note.height)
        return undefined;
      return { path, bytes, ...note };
    } catch {
      return undefined;
    }
  }

  /** Store a prepared frame (atomically: temp file, then rename) and return where it is. */
  async put(key: string, frame: Omit<CachedFrame, 'path'>): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `${key}.${EXT[frame.format]}`);
    const note: Note = { format: frame.format, width: frame.width, height: frame.height, notes: frame.notes };
    await this.replace(path, frame.bytes);
    await this.replace(join(this.dir, `${key}.json`), `${JSON.stringify(note)}\n`);
    return path;
  }

  private async replace(path: string, content: Buffer | string): Promise<void> {
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, content);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
