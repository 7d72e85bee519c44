import { type RunSummary, writeReports } from '@flf2v/reporter';
import type { Redis } from 'ioredis';
import { readFilmRecord } from '../../film/record.js';
import { buildSummary } from '../../run/summary.js';
import type { RedisKeys } from './keys.js';
import { readRunLog } from './run.js';

/**
 * Render a run's three reports into its directory from its state in Redis (the worker that settles its last task
 * does); returns the run's totals.
 */
export async function writeRunReports(
  redis: Redis,
  keys: RedisKeys,
  runId: string,
  outDir: string,
): Promise<RunTotals> {
  const state = await readRunLog(redis, keys, runId);
  const open = Number((await redis.hget(keys.run(runId), 'open')) ?? '0');
  const summary = buildSummary({
    outDir,
    state,
    runState: open > 0 ? 'running' : 'finished',
    stats: state.stats,
    film: await readFilmRecord(outDir),
  });
  await writeReports(outDir, summary);
  return summary.totals;
}

/** A run's tasks by outcome, as its report counts them. */
export type RunTotals = RunSummary['totals'];
