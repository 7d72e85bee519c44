import { resolve } from 'node:path';
import type { RunSummary } from '@flf2v/reporter';
import { backendFor } from '../backend/index.js';
import { BatchError } from '../errors.js';
import { readFilmRecord } from '../film/record.js';
import { LiveView } from '../run/live-view.js';
import { buildSummary } from '../run/summary.js';
import type { ProviderIdentity } from '../state/records.js';

/**
 * The report model of a run directory, from its state alone (no manifest needed, nothing locked), with the
 * film `flf2v film` recorded there, if any.
 */
export async function summaryFromDir(
  dir: string,
): Promise<{ summary: RunSummary; runningPid?: number; where?: string; provider?: ProviderIdentity }> {
  const outDir = resolve(dir);
  const backend = await backendFor(outDir);
  const state = await backend.read(outDir);
  if (!state.header) {
    throw new BatchError(
      'E_USAGE',
      `${dir} is not an flf2v run directory (no state/journal.jsonl, no backend.json of a Redis run)`,
    );
  }
  const holder = await backend.runner(outDir);
  const settled = backend.settled ? await backend.settled(outDir) : undefined;
  const runState =
    holder !== undefined || settled === false
      ? 'running'
      : settled
        ? 'finished'
        : (state.lastSessionEnd ?? 'finished');
  // Driven elsewhere: a submit on the wire there is pending here too, not unknown.
  const view = new LiveView();
  if (runState === 'running')
    for (const key of await backend.submitting(outDir, state)) view.set(key, 'submitting');
  const summary = buildSummary({
    outDir,
    state,
    view,
    runState,
    stats: state.stats,
    film: await readFilmRecord(outDir),
  });
  return { summary, runningPid: holder?.pid, where: backend.where, provider: state.provider };
}
