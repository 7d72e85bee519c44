import { join } from 'node:path';
import { EXIT } from '../exit-codes.js';
import { displayPath } from '../manifest/location.js';
import type { JobSlot, SchedulerContext } from '../schedule/context.js';
import { HISTORY_FILES } from '../schedule/history.js';
import { discoverJobs } from '../schedule/jobs.js';
import { openFailure, openJob, startScheduler } from '../schedule/scheduler.js';
import type { RunLock } from '../state/lock.js';
import { onStopSignals } from '../util/stop-signals.js';
import { resolveProvider } from './_provider.js';

export interface ScheduleFlags {
  runNow?: boolean;
  full?: boolean;
  submitRpm?: number;
  queryRpm?: number;
  maxInFlight?: number;
  simulator?: boolean;
  simulatorConfig?: string;
  verbose?: boolean;
  quiet?: boolean;
}

function nextText(at: Date | null, timeZone: string | undefined): string {
  if (!at) return 'never again';
  return `${at.toLocaleString('sv-SE', { timeZone })}${timeZone ? ` ${timeZone}` : ''}`;
}

/**
 * `flf2v schedule <jobs-dir | job.yaml …>`: run job files on their cron schedules until SIGINT/SIGTERM, then
 * exit 0. Exit 2 when nothing can be scheduled (no job with a valid `schedule:`, or a path that does not
 * exist), 3 when the provider is not configured. A firing's outcome never changes the exit code.
 */
export async function scheduleCommand(paths: string[], raw: Record<string, unknown>): Promise<number> {
  const flags = raw as ScheduleFlags;
  const cwd = process.cwd();
  const print = (line: string) => process.stderr.write(`${line}\n`);
  const found = await discoverJobs(paths, cwd);
  if (!flags.quiet) for (const file of found.ignored) print(`flf2v schedule: ${file}: no schedule:, ignored`);
  for (const bad of found.invalid) {
    print(`flf2v schedule: ${bad.file}: not scheduled:`);
    for (const m of bad.messages) print(`  ${m}`);
  }
  for (const w of found.warnings) {
    print(`flf2v schedule: ${w.file}: scheduled, but invalid as it stands (each firing re-checks it):`);
    for (const m of w.messages.slice(0, 5)) print(`  ${m}`);
    if (w.messages.length > 5) print(`  … ${w.messages.length - 5} more (flf2v validate ${w.file})`);
  }
  if (found.jobs.length === 0) {
    print(`flf2v schedule: nothing to schedule in ${paths.join(' ')}: no job file with a valid schedule:`);
    return EXIT.USAGE;
  }

  // With --simulator, the tasks and frames the embedded simulator accepted outlive a restart of the schedule (kept in the
  // first job's history root), so the firing that continues an interrupted run finds them.
  const provider = await resolveProvider(flags, process.env, {
    simulatorTaskFile: join(found.jobs[0]!.placement.root, '.simulator-tasks.jsonl'),
    simulatorUploadDir: join(found.jobs[0]!.placement.root, '.simulator-uploads'),
  });
  const stop = new AbortController();
  const hard = new AbortController();
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const disposeSignals = onStopSignals({
    stop: (signal) => {
      print(
        `\nflf2v schedule: ${signal}: no new firings; a running run stops cleanly (resumable). Again to stop now.`,
      );
      stop.abort();
      wake();
    },
    now: () => {
      print('\nflf2v schedule: stopping now.');
      hard.abort();
    },
  });
  // Croner's timers keep the process alive, unless no expression fires again: this does in any case.
  const keepAlive = setInterval(() => {}, 1 << 30);

  const ctx: SchedulerContext = {
    apiKey: provider.apiKey,
    baseUrl: provider.baseUrl,
    simulator: provider.simulator !== undefined,
    limits: { submitRpm: flags.submitRpm, queryRpm: flags.queryRpm, maxInFlight: flags.maxInFlight },
    full: Boolean(flags.full),
    verbose: Boolean(flags.verbose),
    quiet: Boolean(flags.quiet),
    cwd,
    stop: stop.signal,
    hard: hard.signal,
    print,
  };
  const command = ['flf2v', 'schedule', ...paths].join(' ');
  const slots: JobSlot[] = [];
  const locks: RunLock[] = [];
  try {
    for (const job of found.jobs) {
      try {
        const opened = await openJob(job, ctx, command);
        slots.push(opened.slot);
        locks.push(opened.lock);
        for (const note of opened.notes) print(`flf2v schedule: ${job.name}: ${note}`);
      } catch (error) {
        print(`flf2v schedule: ${openFailure(job, error)}`);
      }
    }
    if (slots.length === 0) {
      print('flf2v schedule: no job could be scheduled.');
      return EXIT.USAGE;
    }
    if (stop.signal.aborted) return EXIT.OK;
    const scheduler = startScheduler(slots, ctx, { runNow: flags.runNow });
    if (!flags.quiet) {
      if (provider.simulator) print(`flf2v schedule: using the embedded simulator at ${provider.baseUrl}`);
      print(
        `flf2v schedule: ${slots.length} job(s)${flags.full ? ' (--full: earlier runs ignored)' : ''}; ` +
          'Ctrl-C or SIGTERM stops (a running run stops cleanly and is continued by the next firing)',
      );
      for (const { slot, at } of scheduler.next()) {
        const { job } = slot;
        const history = displayPath(join(job.placement.root, HISTORY_FILES.html), cwd);
        print(
          `  ${job.name}  ${job.display}  "${job.schedule}"  next ${nextText(at, job.timezone)}  history ${history}`,
        );
      }
    }
    await stopped;
    await scheduler.stop();
    return EXIT.OK;
  } finally {
    clearInterval(keepAlive);
    disposeSignals();
    await Promise.allSettled(locks.map((l) => l.release()));
    await Promise.allSettled(slots.map((s) => s.log.close()));
    await provider.close();
  }
}
