import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchError } from '../../errors.js';

/** `DIR/backend.json`: which backend holds a run directory's state, for every command given only `DIR`. */
export interface BackendFile {
  /** `redis://host:port/db`, never credentials. */
  backend: string;
  runId: string;
  /** The API key's fingerprint (`keyFingerprint`): which key's work the run is. Not a secret. */
  fingerprint: string;
}

export function backendFilePath(dir: string): string {
  return join(dir, 'backend.json');
}

/** The directory's backend file, or undefined when there is none (a file-backend directory). */
export async function readBackendFile(dir: string): Promise<BackendFile | undefined> {
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = await readFile(backendFilePath(dir), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const file = JSON.parse(text) as BackendFile;
      if (typeof file.runId === 'string' && typeof file.backend === 'string') return file;
    } catch {
      // Being written by another producer this very moment: read again.
    }
    if (attempt >= 20) {
      throw new BatchError('E_STATE', `${backendFilePath(dir)} is not a backend file flf2v can read`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The run of `dir` on this backend: the one its backend file names, or a new one, created exclusively — two
 * producers enqueueing into the same directory at once agree on one run.
 * @throws BatchError `E_USAGE` when `dir` holds a run of another backend or another API key
 */
export async function claimRunDir(dir: string, backend: string, fingerprint: string): Promise<BackendFile> {
  await mkdir(dir, { recursive: true });
  const existing = await readBackendFile(dir);
  if (existing) return sameRun(dir, existing, backend, fingerprint);
  const fresh: BackendFile = { backend, runId: randomBytes(6).toString('hex'), fingerprint };
  try {
    const handle = await open(backendFilePath(dir), 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(fresh, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return sameRun(dir, (await readBackendFile(dir))!, backend, fingerprint);
  }
}

function sameRun(dir: string, file: BackendFile, backend: string, fingerprint: string): BackendFile {
  if (file.backend !== backend) {
    throw new BatchError(
      'E_USAGE',
      `${dir} holds a run on ${file.backend}, not ${backend}: choose another --out (or the same --backend)`,
    );
  }
  if (file.fingerprint !== fingerprint) {
    throw new BatchError(
      'E_USAGE',
      `${dir} holds a run of another API key (fingerprint ${file.fingerprint}; BAICAI_API_KEY's is ${fingerprint}): its tasks cannot be polled with this key. Use the key it was enqueued with, or another --out`,
    );
  }
  return file;
}
