import { RedisWorker } from '../backend/redis/worker.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { onStopSignals } from '../util/stop-signals.js';
import { backendOf, workerLogger } from './_backend.js';
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
  const provider = await resolveProvider({}, process.env);
  const log = workerLogger({ verbose: flags.verbose, secrets: [provider.apiKey] });
  let worker: RedisWorker;
  try {
    worker = await RedisWorker.start({
      address,
      apiKey: provider.apiKey,
      baseUrl: provider.baseUrl,
      logger: log.logger,
      concurrency: flags.concurrency,
      lockDurationMs: flags.stalledAfter,
    });
  } catch (error) {
    await log.close();
    throw error;
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
    }, 250);
    // Said once Ctrl-C is handled: a stop right after it is a clean one.
    if (!flags.quiet) {
      process.stderr.write(
        `flf2v worker: taking tasks from ${address.display} (log: ${log.file}); Ctrl-C stops\n`,
      );
    }
  });
  clearInterval(watch);
  const handedBack = await worker.stop();
  dispose();
  await log.close();
  const fatal = worker.fatal;
  if (fatal) process.stderr.write(`flf2v worker: ${fatal.message} [${fatal.code}]\n`);
  const code = fatal ? exitCodeFor(fatal.code) : stopped ? EXIT.INTERRUPTED : EXIT.OK;
  // Redis gone: commands of the closed connections would keep the process alive until they time out.
  if (!handedBack) process.exit(code);
  return code;
}
