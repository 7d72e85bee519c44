import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJournal, encodeLine } from '../../packages/batch/src/state/_lines.js';
import { statePaths } from '../../packages/batch/src/state/file-store.js';
import type { JournalRecord } from '../../packages/batch/src/state/records.js';

/**
 * A pause without the wait: make everything recorded in a run directory look `ms` older, as if the last session
 * had ended that long ago. Every ISO timestamp in the journal (re-checksummed), the snapshot and the upload cache
 * moves back; pair it with a simulator whose clock jumps `ms` ahead (the provider lived through the pause).
 */
export async function backdateRun(outDir: string, ms: number, cacheDir?: string): Promise<void> {
  const paths = statePaths(outDir);
  const journal = await readFile(paths.journal);
  const { records, validBytes } = decodeJournal(journal);
  const shifted = (records as JournalRecord[]).map((r) => encodeLine(shiftTimes(r, ms) as JournalRecord));
  // A torn tail stays as it was: the runner drops it.
  await writeFile(
    paths.journal,
    Buffer.concat([Buffer.from(shifted.join('')), journal.subarray(validBytes)]),
  );
  const snapshot = await readFile(paths.snapshot, 'utf8').catch(() => undefined);
  if (snapshot) await writeFile(paths.snapshot, JSON.stringify(shiftTimes(JSON.parse(snapshot), ms)));
  if (cacheDir) {
    const file = join(cacheDir, 'uploads.jsonl');
    const text = await readFile(file, 'utf8').catch(() => '');
    const lines = text.split('\n').map((line) => {
      if (!line.trim()) return line;
      const entry = JSON.parse(line) as { at: number };
      return JSON.stringify({ ...entry, at: entry.at - ms });
    });
    if (text) await writeFile(file, lines.join('\n'));
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function shiftTimes(value: unknown, ms: number): unknown {
  if (typeof value === 'string' && ISO.test(value)) return new Date(Date.parse(value) - ms).toISOString();
  if (Array.isArray(value)) return value.map((v) => shiftTimes(v, ms));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [shiftTimes(k, ms) as string, shiftTimes(v, ms)]),
    );
  }
  return value;
}

/** Journal records grouped by the session that wrote them (records before the first session go to 0). */
export async function recordsBySession(outDir: string): Promise<Map<number, JournalRecord[]>> {
  const { records } = decodeJournal(await readFile(statePaths(outDir).journal));
  const sessions = new Map<number, JournalRecord[]>();
  let n = 0;
  for (const r of records as JournalRecord[]) {
    if (r.t === 'session') n = r.n;
    if (!sessions.has(n)) sessions.set(n, []);
    sessions.get(n)!.push(r);
  }
  return sessions;
}

/**
 * For each task a session both submitted and saw finish: how long after it finished (at `taskMs` after its
 * submission, a simulator without jitter) its completion was journaled.
 */
export function detectionLags(records: JournalRecord[], taskMs: number): { taskId: string; lagMs: number }[] {
  const submitted = new Map<string, number>();
  const lags: { taskId: string; lagMs: number }[] = [];
  for (const r of records) {
    if (r.t === 'submitted') submitted.set(r.taskId, Date.parse(r.at));
    if (r.t === 'completed' && submitted.has(r.taskId)) {
      lags.push({ taskId: r.taskId, lagMs: Date.parse(r.at) - submitted.get(r.taskId)! - taskMs });
    }
  }
  return lags;
}
