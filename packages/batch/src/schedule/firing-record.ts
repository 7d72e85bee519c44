import { EXIT } from '../exit-codes.js';
import type { JobSlot, SchedulerContext } from './context.js';
import type { HeldTask } from './incremental.js';
import { deliver } from './notify.js';
import { describeFiring, timeText } from './outcome-line.js';
import type { FiringState } from './types.js';

/** How a firing is put on record: a skip counted and logged, or an end written to the history and announced. */

/** The history state for a run's exit code. */
export function stateOf(exitCode: number): FiringState {
  switch (exitCode) {
    case EXIT.OK:
      return 'succeeded';
    case EXIT.TASKS_FAILED:
      return 'failed';
    case EXIT.INTERRUPTED:
      return 'interrupted';
    default:
      return 'error';
  }
}

/** A firing that does not run: logged, printed, and counted on the run it collided with (when it is ours). */
export async function skip(
  slot: JobSlot,
  ctx: SchedulerContext,
  firedAt: Date,
  reason: string,
  blockingId?: string,
): Promise<void> {
  slot.log.logger.warn({ reason }, 'firing skipped');
  ctx.print(`${timeText(firedAt)} ${slot.job.name}: firing skipped: ${reason}`);
  if (blockingId) {
    const entry = slot.history.runs.find((r) => r.id === blockingId);
    slot.history.update(blockingId, { skippedFirings: (entry?.skippedFirings ?? 0) + 1 });
    await slot.history
      .save()
      .catch((error) => slot.log.logger.warn({ err: String(error) }, 'history not saved'));
  }
}

/** Close a firing: timings, history files, one line on stderr, the webhook (in the background). */
export async function finish(
  slot: JobSlot,
  ctx: SchedulerContext,
  id: string,
  firedAt: Date,
  webhook?: string,
  held: HeldTask[] = [],
): Promise<void> {
  const finishedAt = new Date();
  slot.history.update(id, {
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - firedAt.getTime(),
  });
  const entry = slot.history.runs.find((r) => r.id === id)!;
  await slot.history.save();
  const loud = entry.state !== 'succeeded' && entry.state !== 'up-to-date';
  if (!ctx.quiet || loud) {
    for (const line of describeFiring(slot.job, entry, { cwd: ctx.cwd, held })) ctx.print(line);
  }
  if (webhook) deliver(slot, ctx, webhook, entry);
}
