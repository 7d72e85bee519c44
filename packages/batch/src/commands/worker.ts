import { connectRedis } from '../backend/redis/connection.js';
import type { RunTotals } from '../backend/redis/reports.js';
import { openTasksByKey } from '../backend/redis/run.js';
import type { RedisAddress } from '../backend/redis/url.js';
import { RedisWorker } from '../backend/redis/worker.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import type { TaskPhase } from '../state/run-state.js';
import { onStopSignals } from '../util/stop-signals.js';
import { backendOf, exitOnStartFailure, workerLogger } from './_backend.js';
import { resolveProvider } from './_provider.js';

interface WorkerFlags {
  backend?: string;
  concurrency?: number;
  stalledAfter?: number;
  simulator?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * `flf2v worker --backend redis://… [--concurrency N]`: take the tasks of every run on that backend for the key in
 * BAICAI_API_KEY until SIGINT/SIGTERM (then: no new work, calls settle, tasks handed back, exit 130). A fatal
 * error (wrong key, Redis gone) exits 3 with every task kept.
 */
export async function workerCommand(raw: Record<string, unknown>): Promise<number> {
  const flags = raw as WorkerFlags;
  const address = backendOf(flags);
  const provider = await resolveProvider({}, process.env, { noSimulatorFlag: true });
  const log = workerLogger({ verbose: flags.verbose, secrets: [provider.apiKey] });
  const say = (line: string) => {
    if (!flags.quiet) process.stderr.write(`flf2v worker: ${line}\n`);
  };
  const progress = new WorkerProgress(say);
  let worker: RedisWorker;
  try {
    worker = await RedisWorker.start({
      address,
      apiKey: provider.apiKey,
      baseUrl: provider.baseUrl,
      logger: log.logger,
      concurrency: flags.concurrency,
      lockDurationMs: flags.stalledAfter,
      onTaskSettled: (_runId, task) => progress.settled(task.phase),
      onRunSettled: (runId, run) => progress.runFinished(runId, run.outDir, run.totals),
    });
  } catch (error) {
    await log.close();
    exitOnStartFailure(error);
  }
  let stopped = false;
  let watch: NodeJS.Timeout | undefined;
  let dispose = () => {};
  await new Promise<void>((resolve) => {
    dispose = onStopSignals({
      stop: () => {
        stopped = true;
        if (!flags.quiet)
          process.stderr.write('\nflf2v worker: stopping: no new tasks; letting calls settle\n');
        resolve();
      },
      now: () => {
        worker.abort();
        process.stderr.write('\nflf2v worker: stopped.\n');
        process.exit(EXIT.INTERRUPTED);
      },
    });
    watch = setInterval(() => {
      if (worker.fatal) resolve();
      progress.tick();
    }, 250);
    // Said once Ctrl-C is handled: a stop right after it is a clean one.
    say(
      `taking tasks from ${address.display} for the runs of key ${worker.fingerprint} (log: ${log.file}); Ctrl-C stops`,
    );
    if (!flags.quiet) void otherKeysWork(address, worker.fingerprint).then((note) => note && say(note));
  });
  clearInterval(watch);
  // Jobs Redis did not take back (it did not answer) stall and are taken over; the worker logged it.
  await worker.stop();
  dispose();
  await log.close();
  const fatal = worker.fatal;
  if (fatal) process.stderr.write(`flf2v worker: ${fatal.message} [${fatal.code}]\n`);
  else say(`stopped: ${progress.line()}; ${worker.handedBack} unfinished handed back to the queue`);
  const code = fatal ? exitCodeFor(fatal.code) : stopped ? EXIT.INTERRUPTED : EXIT.OK;
  // The worker's end is the process's end: nothing BullMQ or ioredis left behind (a command waiting for its
  // timeout on a closed connection, a late error nobody listens to any more) may hold it or crash it.
  process.exit(code);
}

/**
 * A note when the work waiting in this Redis is another API key's: a worker serves only the runs enqueued with its
 * own key, so a producer with a different BAICAI_API_KEY leaves it idle (undefined: nothing to say).
 */
async function otherKeysWork(address: RedisAddress, mine: string): Promise<string | undefined> {
  const redis = connectRedis(address, { name: 'flf2v:worker:look' });
  try {
    const others = [...(await openTasksByKey(redis))].filter(([fp, open]) => fp !== mine && open > 0);
    if (others.length === 0) return undefined;
    const list = others.map(([fp, open]) => `${open} of key ${fp}`).join(', ');
    return `note: tasks waiting here belong to other API keys (${list}); this worker serves only key ${mine} — is BAICAI_API_KEY the same as the producer's?`;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** At most one progress line this often (ms), and only when something was settled since the last one. */
const PROGRESS_EVERY_MS = 30_000;

/** What a worker says on stderr as it goes: a line per finished run, a progress line now and then. */
class WorkerProgress {
  private readonly counts = { succeeded: 0, failed: 0, unknown: 0 };
  private lastLine = Date.now();
  private changed = false;

  constructor(private readonly say: (line: string) => void) {}

  settled(phase: TaskPhase): void {
    if (phase === 'succeeded' || phase === 'failed' || phase === 'unknown') this.counts[phase]++;
    this.changed = true;
  }

  runFinished(runId: string, outDir: string, t: RunTotals): void {
    this.lastLine = Date.now();
    this.say(
      `run ${runId} finished: ${t.succeeded} succeeded, ${t.failed} failed, ${t.unknown} unknown; reports in ${outDir}`,
    );
  }

  tick(): void {
    if (!this.changed || Date.now() - this.lastLine < PROGRESS_EVERY_MS) return;
    this.changed = false;
    this.lastLine = Date.now();
    this.say(this.line());
  }

  line(): string {
    const c = this.counts;
    return `${c.succeeded + c.failed + c.unknown} tasks settled here (${c.succeeded} succeeded, ${c.failed} failed, ${c.unknown} unknown)`;
  }
}
