import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import pretty from 'pino-pretty';

export interface RunLogger {
  logger: pino.Logger;
  /** The JSON-lines log file. */
  file: string;
  close(): Promise<void>;
}

/**
 * pino JSON lines in `<dir>/logs/`, plus pretty debug output on stderr with `verbose`. Every line passes a
 * last-line-of-defence scrub of the given secrets (the API key) before it is written anywhere.
 */
export function createRunLogger(options: { dir: string; verbose?: boolean; secrets?: string[] }): RunLogger {
  const logsDir = join(options.dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const file = join(logsDir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  const destination = pino.destination({ dest: file, sync: false });
  const level = options.verbose ? 'debug' : 'info';
  const streams: pino.StreamEntry[] = [{ level, stream: destination }];
  if (options.verbose) {
    streams.push({
      level: 'debug',
      stream: pretty({ destination: 2, colorize: process.stderr.isTTY, sync: true }),
    });
  }
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 6);
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      hooks: {
        streamWrite: (line) => {
          let out = line;
          for (const s of secrets) out = out.replaceAll(s, '[REDACTED]');
          return out;
        },
      },
    },
    pino.multistream(streams),
  );
  return {
    logger,
    file,
    close: () =>
      new Promise<void>((resolve) => {
        logger.flush(() => {
          destination.end();
          destination.once('close', () => resolve());
          destination.once('error', () => resolve());
        });
      }),
  };
}

/** A logger that drops everything (library use without logs). */
export function silentLogger(): pino.Logger {
  return pino({ level: 'silent' });
}
