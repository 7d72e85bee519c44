import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { defaultCacheDir } from '../util/cache-dir.js';

/**
 * Uploaded frame URLs by content hash, shared by every run on this machine, so a frame used by many jobs is
 * uploaded once. Entries are per provider (base URL) and age out (`maxAgeMs`), since uploaded URLs may expire.
 * It is a cache: losing it costs an upload, never correctness, so it is appended to without fsync.
 */
export interface UploadCache {
  /** The URL and when it was uploaded (epoch ms), while younger than the age limit. */
  get(sha256: string): { url: string; at: number } | undefined;
  put(sha256: string, url: string): void;
  flush(): Promise<void>;
}

export interface UploadCacheOptions {
  /** Directory of the cache file. @default $FLF2V_CACHE_DIR, else $XDG_CACHE_HOME/flf2v, else ~/.cache/flf2v */
  dir?: string;
  baseUrl: string;
  /** @default 12 hours */
  maxAgeMs?: number;
  now?: () => number;
}

export const DEFAULT_UPLOAD_MAX_AGE_MS = 12 * 3_600_000;

export { defaultCacheDir };

interface Entry {
  p: string;
  h: string;
  u: string;
  at: number;
}

export async function openUploadCache(options: UploadCacheOptions): Promise<UploadCache> {
  const file = join(options.dir ?? defaultCacheDir(), 'uploads.jsonl');
  const provider = createHash('sha256').update(options.baseUrl).digest('hex').slice(0, 16);
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { url: string; at: number }>();
  let lines = 0;
  let fresh = 0;
  try {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (!line) continue;
      lines++;
      try {
        const e = JSON.parse(line) as Entry;
        if (now() - e.at > maxAgeMs) continue;
        fresh++;
        if (e.p === provider) entries.set(e.h, { url: e.u, at: e.at });
      } catch {
        // a torn line from a concurrent writer: skip it
      }
    }
  } catch {
    // no cache yet, or unreadable: start empty
  }
  // Keep the file from growing without bound: rewrite it without aged-out entries now and then.
  if (lines > 1000 && fresh < lines / 2) {
    const kept: string[] = [];
    for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n')) {
      try {
        const e = JSON.parse(line) as Entry;
        if (now() - e.at <= maxAgeMs) kept.push(line);
      } catch {}
    }
    await writeFile(file, kept.length ? `${kept.join('\n')}\n` : '').catch(() => {});
  }
  let pending: string[] = [];
  return {
    get(sha256) {
      const e = entries.get(sha256);
      return e && now() - e.at <= maxAgeMs ? { url: e.url, at: e.at } : undefined;
    },
    put(sha256, url) {
      const at = now();
      entries.set(sha256, { url, at });
      pending.push(JSON.stringify({ p: provider, h: sha256, u: url, at } satisfies Entry));
    },
    async flush() {
      if (pending.length === 0) return;
      const text = `${pending.join('\n')}\n`;
      pending = [];
      try {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, text);
      } catch {
        // a read-only home must not fail a run
      }
    },
  };
}
