import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderHtml } from './html/page.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import type { RunSummary } from './types.js';

export interface WrittenReports {
  json: string;
  html: string;
  junit: string;
}

export const REPORT_FILES = { json: 'report.json', html: 'report.html', junit: 'report.junit.xml' } as const;

// Calls for one directory are applied in order, so a slow periodic refresh can never land after the final
// report and replace it with an older picture.
const queues = new Map<string, Promise<unknown>>();

/**
 * Writes `report.json`, `report.html` and `report.junit.xml` into `outDir` (created if missing) and returns
 * their absolute paths. Each file is written to a temporary name in the same directory and renamed over the
 * old one, so a reader (a browser reloading the page, a script polling the JSON) sees either the previous
 * complete file or the new one, never a half-written one. No fsync: the reports are derived from the journal
 * and `flf2v report` rebuilds them, so surviving a power cut is the journal's job, and skipping it keeps a
 * refresh every few seconds cheap.
 */
export function writeReports(outDir: string, summary: RunSummary): Promise<WrittenReports> {
  const dir = resolve(outDir);
  const previous = queues.get(dir) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => writeAll(dir, summary));
  queues.set(dir, next);
  const forget = () => {
    if (queues.get(dir) === next) queues.delete(dir);
  };
  next.then(forget, forget);
  return next;
}

async function writeAll(dir: string, summary: RunSummary): Promise<WrittenReports> {
  await mkdir(dir, { recursive: true });
  const paths: WrittenReports = {
    json: join(dir, REPORT_FILES.json),
    html: join(dir, REPORT_FILES.html),
    junit: join(dir, REPORT_FILES.junit),
  };
  // Render everything first: a rendering bug then leaves all three old files in place, not a mixed set.
  const contents: WrittenReports = {
    json: renderJson(summary),
    html: renderHtml(summary),
    junit: renderJunit(summary),
  };
  await Promise.all(
    (Object.keys(paths) as (keyof WrittenReports)[]).map((k) => replace(paths[k], contents[k])),
  );
  return paths;
}

async function replace(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, 'utf8');
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
