import pino from 'pino';
import { schedulerPaths } from './_paths.js';

export interface SchedulerLogger {
  logger: pino.Logger;
  file: string;
  close(): Promise<void>;
}

/**
 * The scheduler's own log for one job: pino JSON lines appended to `<history root>/scheduler.log` (firings,
 * skips, invalid job files with their problems, webhook results). Each run also keeps its detailed log in its
 * own directory. Every line is scrubbed of the given secrets before it is written.
 */
export function createSchedulerLogger(
  root: string,
  options: { job: string; verbose?: boolean; secrets?: string[] },
): SchedulerLogger {
  const file = schedulerPaths(root).log;
  const destination = pino.destination({ dest: file, append: true, mkdir: true, sync: false });
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 6);
  const logger = pino(
    {
      level: options.verbose ? 'debug' : 'info',
      base: { pid: process.pid, job: options.job },
      hooks: {
        streamWrite: (line) => {
          let out = line;
          for (const s of secrets) out = out.replaceAll(s, '[REDACTED]');
          return out;
        },
      },
    },
    destination,
  );
  let closed: Promise<void> | undefined;
  return {
    logger,
    file,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        logger.flush(() => {
          destination.end();
          destination.once('close', () => resolve());
          destination.once('error', () => resolve());
        });
      });
      return closed;
    },
  };
}
