import { mkdir } from 'node:fs/promises';
import { isFlf2vError } from '@flf2v/core';
import { Cron } from 'croner';
import { acquireLock, type RunLock } from '../state/lock.js';
import { schedulerPaths } from './_paths.js';
import type { JobSlot, SchedulerContext } from './context.js';
import { DoneIndex } from './done-index.js';
import { fire } from './firing.js';
import { History } from './history.js';
import { createSchedulerLogger } from './logger.js';
import type { ScheduledJob } from './types.js';

/**
 * The scheduler: one croner job per scheduled job file, each firing through `fire()`. Firings of one job never
 * overlap (an in-process guard, plus the run directory's lock for other processes); firings of different jobs
 * may. Missed firings (the machine was off, the scheduler was not running) are not caught up: croner only
 * looks forward, and `--run-now` is the way to fire at start.
 *
 * A history root belongs to one scheduler at a time: each job's root is locked (the same lock file format as a
 * run directory's, in `<root>/.schedule/state/lock.json`) so two schedulers on the same jobs cannot both write
 * its history.
 */

export interface OpenedJob {
  slot: JobSlot;
  /** Things worth telling the user (a damaged history moved aside, runs marked interrupted). */
  notes: string[];
}

export async function openJob(
  job: ScheduledJob,
  ctx: Pick<SchedulerContext, 'apiKey' | 'verbose'>,
  command: string,
): Promise<OpenedJob & { lock: RunLock }> {
  const root = job.placement.root;
  await mkdir(root, { recursive: true });
  const lock = await acquireLock(schedulerPaths(root).dir, { command });
  try {
    const secrets = [ctx.apiKey];
    const { history, notes } = await History.open(root, job, { secrets });
    const done = await DoneIndex.open(root, job.name);
    const log = createSchedulerLogger(root, { job: job.name, verbose: ctx.verbose, secrets });
    if (notes.length > 0) await history.save();
    for (const note of notes) log.logger.warn({}, note);
    return { slot: { job, history, done, log, deliveries: new Set() }, notes, lock };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** Why a job could not be opened, in words (another scheduler holds it, a newer history format…). */
export function openFailure(job: ScheduledJob, error: unknown): string {
  if (isFlf2vError(error) && error.code === 'E_LOCKED') {
    return `${job.display}: already scheduled by another flf2v: ${error.message}`;
  }
  return `${job.display}: ${error instanceof Error ? error.message : String(error)}`;
}

export interface Scheduler {
  /** Next firing per job (null when the expression never fires again). */
  next(): { slot: JobSlot; at: Date | null }[];
  /** Stop firing, let the firings in progress end (they watch `ctx.stop`), wait for webhooks. */
  stop(): Promise<void>;
}

export function startScheduler(
  slots: JobSlot[],
  ctx: SchedulerContext,
  options: { runNow?: boolean } = {},
): Scheduler {
  const firings = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    firings.add(p);
    void p.finally(() => firings.delete(p));
  };
  if (options.runNow) for (const slot of slots) track(fire(slot, ctx, 'run-now'));
  const crons = slots.map(
    (slot) =>
      new Cron(
        slot.job.schedule,
        {
          name: `flf2v:${slot.job.file}`,
          ...(slot.job.timezone ? { timezone: slot.job.timezone } : {}),
          catch: (error) => slot.log.logger.error({ err: String(error) }, 'cron callback failed'),
        },
        () => track(fire(slot, ctx, 'schedule')),
      ),
  );
  let stopping: Promise<void> | undefined;
  return {
    next: () => slots.map((slot, i) => ({ slot, at: crons[i]!.nextRun() })),
    stop() {
      stopping ??= (async () => {
        for (const cron of crons) cron.stop();
        while (firings.size > 0) await Promise.allSettled([...firings]);
        await Promise.allSettled(slots.flatMap((s) => [...s.deliveries]));
      })();
      return stopping;
    },
  };
}
