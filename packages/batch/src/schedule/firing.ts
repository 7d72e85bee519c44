import { mkdir } from 'node:fs/promises';
import { isFlf2vError } from '@flf2v/core';
import { REPORT_FILES } from '@flf2v/reporter';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { displayPath } from '../manifest/location.js';
import { loadPlan } from '../manifest/plan.js';
import type { Plan } from '../manifest/types.js';
import { mergeLimits } from '../run/limits.js';
import { runSession } from '../run/session.js';
import type { JobSlot, SchedulerContext } from './context.js';
import { finish, skip, stateOf } from './firing-record.js';
import { filterPlan, type HeldTask } from './incremental.js';
import { pointLatest } from './latest.js';
import { lockHolder } from './lock-probe.js';
import { firingStamp, fromRoot, relativeToRoot } from './out-dir.js';
import { timeText as stamp } from './outcome-line.js';
import { chooseRunDir } from './run-dir-choice.js';
import { findRunDirs, holdsState } from './run-dirs.js';
import type { HistoryEntry, Trigger } from './types.js';

/**
 * One firing of one job: a normal run (the same session, lock, journal and reports as `flf2v run`) into its
 * own directory, on the tasks no earlier run of the job has dealt with. Never throws: whatever goes wrong is
 * recorded in the history, logged and printed, and the scheduler carries on with the next firing.
 *
 * Order matters: the job file is re-read and validated before anything is written, so an invalid CSV at
 * 2 am costs one `invalid` entry and nothing else; the previous run's lock is checked before that, so a run
 * still going (here or in another process) is never joined by a second one.
 */
export async function fire(slot: JobSlot, ctx: SchedulerContext, trigger: Trigger): Promise<void> {
  const firedAt = new Date();
  if (ctx.stop.aborted) return;
  if (slot.busy) {
    const dir = slot.busy.runDir && displayPath(fromRoot(slot.job.placement.root, slot.busy.runDir), ctx.cwd);
    const what = dir ? `the previous run (${dir})` : 'the previous firing';
    await skip(slot, ctx, firedAt, `${what} is still going`, slot.busy.entryId);
    return;
  }
  const busy: NonNullable<JobSlot['busy']> = {};
  slot.busy = busy;
  try {
    await runFiring(slot, ctx, trigger, firedAt, busy);
  } catch (error) {
    // Only bugs and I/O failures (a full disk) get here: record them like any failed firing.
    const id = busy.entryId ?? slot.history.newId(firingStamp(firedAt, slot.job.timezone));
    const err = isFlf2vError(error)
      ? { code: error.code, message: error.message }
      : { code: 'E_INTERNAL', message: error instanceof Error ? error.message : String(error) };
    slot.log.logger.error({ err: error instanceof Error ? error.stack : String(error) }, 'firing failed');
    const patch: Partial<HistoryEntry> = {
      state: 'error',
      exitCode: exitCodeFor(err.code),
      error: err,
    };
    if (busy.entryId) slot.history.update(id, patch);
    else slot.history.add({ id, trigger, firedAt: firedAt.toISOString(), ...patch, state: 'error' });
    await finish(slot, ctx, id, firedAt).catch(() => {});
  } finally {
    slot.busy = undefined;
  }
}

async function runFiring(
  slot: JobSlot,
  ctx: SchedulerContext,
  trigger: Trigger,
  firedAt: Date,
  busy: NonNullable<JobSlot['busy']>,
): Promise<void> {
  const { job, history } = slot;
  const logger = slot.log.logger;
  const root = job.placement.root;
  const command = `flf2v schedule ${job.display}`;
  const id = history.newId(firingStamp(firedAt, job.timezone));
  const base = { id, trigger, firedAt: firedAt.toISOString() };

  const previous = history.lastRun();
  if (previous?.runDir) {
    const dir = fromRoot(root, previous.runDir);
    const holder = (await holdsState(dir)) ? await lockHolder(dir, command) : undefined;
    if (holder) {
      await skip(slot, ctx, firedAt, `the previous run is still going: ${holder}`, previous.id);
      return;
    }
  }

  logger.debug({ id, trigger }, 'firing');
  const loaded = await loadPlan(job.file, { cwd: ctx.cwd });
  if (loaded.summary.errors > 0) {
    const problems = loaded.problems;
    for (const p of problems) logger.warn({ kind: p.kind, severity: p.severity }, p.message);
    history.add({
      ...base,
      state: 'invalid',
      exitCode: EXIT.USAGE,
      jobTasks: loaded.tasks.length,
      problems: {
        errors: loaded.summary.errors,
        warnings: loaded.summary.warnings,
        messages: problems.slice(0, 20).map((p) => `${p.severity}: ${p.message}`),
      },
    });
    await finish(slot, ctx, id, firedAt, loaded.job.notify?.webhook);
    return;
  }
  const plan = keepPlacement(slot, ctx, loaded);

  // Earlier runs are read first: which directory to use depends on what the previous one can still finish.
  if (!ctx.full) {
    const refreshed = await slot.done.refresh(await findRunDirs(job.placement));
    if (refreshed.read.length > 0) logger.debug({ dirs: refreshed.read }, 'read earlier runs');
    for (const u of refreshed.unreadable)
      logger.warn({ dir: u.dir }, `cannot read an earlier run: ${u.message}`);
  }
  const { runDir, continued } = await chooseRunDir({
    placement: job.placement,
    timeZone: job.timezone,
    at: firedAt,
    full: ctx.full,
    previous,
    resumableIn: (dir) => slot.done.resumableIn(dir),
  });
  const relRun = relativeToRoot(root, runDir);
  const existing = await holdsState(runDir);
  if (existing && !continued) {
    const holder = await lockHolder(runDir, command);
    if (holder) {
      await skip(slot, ctx, firedAt, `its run directory is in use: ${holder}`);
      return;
    }
  }

  let work = plan;
  let skipped: HistoryEntry['skipped'];
  let held: HeldTask[] = [];
  if (!ctx.full) {
    const filtered = filterPlan(plan, slot.done.earlier(relRun));
    work = filtered.plan;
    held = filtered.heldEarlier;
    skipped = { succeededEarlier: filtered.succeededEarlier, heldEarlier: held.length };
    if (held.length > 0) {
      logger.warn(
        { tasks: held.map((h) => ({ id: h.id, dir: h.dir })) },
        'tasks sent in an earlier run without an outcome there were not re-sent',
      );
    }
  }

  if (work.tasks.length === 0 && !existing) {
    history.add({ ...base, state: 'up-to-date', exitCode: EXIT.OK, jobTasks: plan.tasks.length, skipped });
    await finish(slot, ctx, id, firedAt, plan.job.notify?.webhook, held);
    return;
  }

  if (ctx.stop.aborted) {
    // Stopping while the job file was read: start nothing rather than a run that stops at once.
    logger.info({ id }, 'firing abandoned: the scheduler is stopping');
    return;
  }
  const before = existing ? slot.done.succeededIn(relRun) : new Set<string>();
  const succeededBefore = work.tasks.filter((t) => before.has(t.key)).length;
  await mkdir(runDir, { recursive: true });
  history.add({
    ...base,
    state: 'running',
    runDir: relRun,
    ...(continued ? { continued: true } : {}),
    ...(ctx.full ? { full: true } : {}),
    reports: {
      json: `${relRun}/${REPORT_FILES.json}`,
      html: `${relRun}/${REPORT_FILES.html}`,
      junit: `${relRun}/${REPORT_FILES.junit}`,
    },
    jobTasks: plan.tasks.length,
    ...(skipped ? { skipped } : {}),
    ...(succeededBefore > 0 ? { succeededBefore } : {}),
  });
  busy.entryId = id;
  busy.runDir = relRun;
  await history.save();
  const latest = await pointLatest(root, runDir, id);
  if (!latest.symlink) logger.debug({}, 'no symlink support here: latest.json is the pointer');
  logger.info({ id, runDir, tasks: work.tasks.length, skipped }, 'run started');
  if (ctx.verbose)
    ctx.print(
      `${stamp(firedAt)} ${job.name}: started ${displayPath(runDir, ctx.cwd)} (${work.tasks.length} task(s))`,
    );

  try {
    const result = await runSession({
      plan: work,
      manifestArg: job.display,
      outDir: runDir,
      apiKey: ctx.apiKey,
      baseUrl: ctx.baseUrl,
      simulator: ctx.simulator,
      limits: mergeLimits(plan.job.limits, ctx.limits),
      verbose: ctx.verbose,
      progress: false,
      command,
      signal: ctx.stop,
      abortHard: ctx.hard,
    });
    const patch: Partial<HistoryEntry> = {
      state: stateOf(result.exitCode),
      exitCode: result.exitCode,
      totals: { ...result.planTotals },
    };
    if (result.outcome.fatal)
      patch.error = { code: result.outcome.fatal.code, message: result.outcome.fatal.message };
    history.update(id, patch);
    logger.info(
      { id, exitCode: result.exitCode, totals: result.planTotals, log: result.logFile },
      'run ended',
    );
  } catch (error) {
    // The session refused to start (its directory locked, or holding another job's runs, or damaged state).
    const err = isFlf2vError(error)
      ? { code: error.code, message: error.message }
      : { code: 'E_INTERNAL', message: error instanceof Error ? error.message : String(error) };
    logger.error({ id, err }, 'run could not start');
    history.update(id, { state: 'error', exitCode: exitCodeFor(err.code), error: err });
  }
  await finish(slot, ctx, id, firedAt, plan.job.notify?.webhook, held);
}

/**
 * When and where a job runs is read once, at start; a firing that finds them changed in the file keeps the
 * old ones (and says so) so the history, the lock and the run directories stay in one place.
 */
function keepPlacement(slot: JobSlot, ctx: SchedulerContext, plan: Plan): Plan {
  const { job } = slot;
  const changed: string[] = [];
  if (plan.job.name !== job.name) changed.push('name');
  if (plan.job.out !== job.out) changed.push('out');
  if (plan.job.schedule !== job.schedule) changed.push('schedule');
  if (plan.job.timezone !== job.timezone) changed.push('timezone');
  if (changed.length === 0) return plan;
  const text = `${job.display}: ${changed.join(', ')} changed since the scheduler started; restart it to apply (this firing uses the old values)`;
  slot.log.logger.warn({ changed }, text);
  ctx.print(`flf2v schedule: ${text}`);
  return { ...plan, job: { ...plan.job, name: job.name } };
}
