import { relative, resolve } from 'node:path';
import { writeReports } from '@flf2v/reporter';
import { readBackendFile } from '../backend/redis/run-dir.js';
import { usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { didYouMean } from '../manifest/_suggest.js';
import { takeOf } from '../manifest/take.js';
import { chosenTake } from '../run/summary.js';
import { fileBackend } from '../state/backend.js';
import { acquireLock } from '../state/lock.js';
import type { RunState } from '../state/run-state.js';
import { invokedAs } from '../util/invocation.js';
import { summaryFromDir } from './_state-summary.js';

/**
 * `flf2v choose DIR ID TAKE`: shot ID's film uses take TAKE. Recorded in the run's state (a `chosen` record in its
 * journal, written under the directory's lock as a run writes, so never while a run holds it), then the reports
 * are rendered again. Choosing the take already chosen records nothing.
 *
 * Throws `E_USAGE` (not a run directory, a run on a Redis backend, no shot ID, no take TAKE of it), `E_LOCKED` (a
 * run holds the directory), `E_JOURNAL_CORRUPT`, `E_STATE`, `E_LOCAL_IO`.
 */
export async function chooseCommand(dir: string, id: string, take: number): Promise<number> {
  const outDir = resolve(dir);
  if (await readBackendFile(outDir)) {
    throw usageError(
      `${dir} holds a run on a Redis backend: flf2v choose works on run directories of the file backend (not yet on Redis)`,
    );
  }
  if (!(await fileBackend.holds(outDir))) {
    throw usageError(`${dir} is not an flf2v run directory (no state/journal.jsonl)`);
  }
  const lock = await acquireLock(outDir, { command: [invokedAs(), ...process.argv.slice(2)].join(' ') });
  let before: number;
  let phase: string;
  try {
    const store = await fileBackend.open(outDir, {});
    try {
      phase = phaseOfTake(store.state, dir, id, take);
      before = chosenTake(store.state, id);
      if (before !== take) {
        store.append({ t: 'chosen', id, take, at: new Date().toISOString() });
        await store.flush();
      }
    } finally {
      await store.close();
    }
  } finally {
    await lock.release();
  }
  const { summary } = await summaryFromDir(outDir);
  await writeReports(outDir, summary);

  const err = process.stderr;
  err.write(
    before === take
      ? `flf2v choose: ${id}: take ${take} was already chosen\n`
      : `flf2v choose: ${id}: take ${take} chosen (was take ${before})\n`,
  );
  if (phase !== 'succeeded') {
    err.write(`  take ${take} has no video yet (${phase}): the film needs it finished\n`);
  }
  const inFilm = summary.film?.shots.find((s) => s.id === id);
  if (inFilm && takeOf(inFilm) !== take) {
    const rel = relative(process.cwd(), outDir) || '.';
    err.write(
      `  the film (${summary.film!.path}) uses take ${takeOf(inFilm)}: make it again with flf2v film ${rel}\n`,
    );
  }
  return EXIT.OK;
}

/** The phase of shot `id`'s take (its most recently planned version), or `E_USAGE` saying which takes there are. */
function phaseOfTake(state: RunState, dir: string, id: string, take: number): string {
  const shot = [...state.tasks.values()].filter((t) => t.id === id);
  if (shot.length === 0) {
    const ids = [...new Set([...state.tasks.values()].map((t) => t.id))];
    throw usageError(`${dir} has no shot ${JSON.stringify(id)}${didYouMean(id, ids)}`);
  }
  const versions = shot.filter((t) => takeOf(t) === take);
  if (versions.length === 0) {
    const takes = [...new Set(shot.map(takeOf))].sort((a, b) => a - b);
    throw usageError(
      `${id} has take${takes.length > 1 ? 's' : ''} ${takes.join(', ')} in ${dir}, not take ${take}: make one with flf2v run MANIFEST --retake ${id}`,
    );
  }
  return versions.reduce((a, b) => (b.plannedAt >= a.plannedAt ? b : a)).phase;
}
