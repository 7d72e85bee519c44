import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FilmSummary } from '@flf2v/reporter';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { localIoFailure } from '../util/local-io.js';

/** `film.json` in the run directory: the last film `flf2v film` made, as the report shows it. */
export const FILM_RECORD = 'film.json';

/** Write `film.json` atomically: `{ schemaVersion: 1, ...film }`. Throws `E_LOCAL_IO` on a disk problem. */
export async function writeFilmRecord(outDir: string, film: FilmSummary): Promise<string> {
  const path = join(outDir, FILM_RECORD);
  try {
    await writeFileAtomic(path, `${JSON.stringify({ schemaVersion: 1, ...film }, null, 2)}\n`);
  } catch (error) {
    throw localIoFailure(`cannot write ${path}`, error) ?? error;
  }
  return path;
}

/**
 * The film recorded in `outDir`, if any. A missing, unreadable or unfamiliar `film.json` reads as no film: the
 * report is not worth failing over it, and `flf2v film` writes it again.
 */
export async function readFilmRecord(outDir: string): Promise<FilmSummary | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(outDir, FILM_RECORD), 'utf8'));
  } catch {
    return undefined;
  }
  if (!isFilm(raw)) return undefined;
  const { schemaVersion: _, ...film } = raw;
  return film;
}

function isFilm(v: unknown): v is FilmSummary & { schemaVersion: 1 } {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  return (
    f.schemaVersion === 1 &&
    typeof f.path === 'string' &&
    typeof f.createdAt === 'string' &&
    typeof f.duration === 'number' &&
    typeof f.bytes === 'number' &&
    typeof f.sha256 === 'string' &&
    (f.method === 'copy' || f.method === 'reencode') &&
    Array.isArray(f.shots)
  );
}
