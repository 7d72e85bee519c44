import { createFileLogger, type FileLogger } from '../util/logger.js';
import { schedulerPaths } from './_paths.js';

/**
 * The scheduler's own log for one job: pino JSON lines appended to `<history root>/scheduler.log` (firings,
 * skips, invalid job files with their problems, webhook results). Each run also keeps its detailed log in its
 * own directory. Every line is scrubbed of the given secrets before it is written.
 */
export function createSchedulerLogger(
  root: string,
  options: { job: string; verbose?: boolean; secrets?: string[] },
): FileLogger {
  return createFileLogger({
    file: schedulerPaths(root).log,
    secrets: options.secrets,
    base: { job: options.job },
    verbose: options.verbose,
  });
}
