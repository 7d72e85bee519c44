import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from './_dirsync.js';
import { apiError, type Exchange } from './_exchange.js';
import { type ApiError, localIoHint } from './errors.js';
import type { DownloadResult } from './types.js';

/**
 * The part file of a download (`<dest>.part`, see `download.ts`): found or created, hashed, and finished by a
 * rename over the destination. Every local failure is `E_LOCAL_IO`.
 */

/** A local file operation of a download failed: `E_LOCAL_IO`, never retried (a person frees space, fixes rights). */
export function fsError(ex: Exchange, what: string, error: unknown): ApiError {
  const code = (error as { code?: string }).code ?? 'error';
  const hint = localIoHint(code);
  return apiError(ex, 'E_LOCAL_IO', `${what} (${code}${hint ? `: ${hint}` : ''})`, 'not-sent', {
    cause: error,
    retryable: false,
  });
}

/**
 * The part file to start from: a fresh one, created exclusively and kept open for writing (the common case:
 * one open, no stat, no exception), or the size of one an earlier attempt left (to resume with `Range`).
 */
export async function probePart(
  part: string,
): Promise<{ offset: 0; fresh: FileHandle } | { offset: number; fresh?: undefined }> {
  try {
    return { offset: 0, fresh: await openPart(part, 'wx') };
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  }
  return { offset: (await stat(part)).size };
}

/** Feed the first `bytes` of the file at `part` into `hash`. */
export async function hashExisting(hash: Hash, part: string, bytes: number): Promise<void> {
  for await (const chunk of createReadStream(part, { start: 0, end: bytes - 1 }))
    hash.update(chunk as Buffer);
}

/** Open the part file, creating its directory on first use (one mkdir per new directory, not per file). */
export async function openPart(part: string, flags: 'a' | 'w' | 'wx'): Promise<FileHandle> {
  try {
    return await open(part, flags);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
    await mkdir(dirname(part), { recursive: true });
    return await open(part, flags);
  }
}

/**
 * fsync the part file and rename it over `dest`. When the part file is gone because another download of the same
 * video into the same place (a second worker, still driving a task that was taken over) renamed it first, `dest`
 * holding exactly these bytes (`got`) is the same success.
 */
export async function finish(
  ex: Exchange,
  part: string,
  dest: string,
  handle: FileHandle,
  got: DownloadResult,
): Promise<void> {
  try {
    // fdatasync: contents and size, without the timestamps a full fsync would also flush.
    await handle.datasync();
  } catch (error) {
    throw fsError(ex, 'cannot fsync the part file', error);
  } finally {
    await handle.close();
  }
  try {
    await rename(part, dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !(await holds(dest, got))) {
      throw fsError(ex, `cannot rename the part file to ${JSON.stringify(dest)}`, error);
    }
  }
  await syncDirectory(dirname(dest));
}

/** Whether `path` holds exactly the bytes of `got` (size, then sha256). */
export async function holds(path: string, got: DownloadResult): Promise<boolean> {
  try {
    if ((await stat(path)).size !== got.bytes) return false;
    const hash = createHash('sha256');
    await hashExisting(hash, path, got.bytes);
    return hash.digest('hex') === got.sha256;
  } catch {
    return false;
  }
}
