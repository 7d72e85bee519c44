import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { redactText } from '@flf2v/core/rules';
import pino from 'pino';
import pretty from 'pino-pretty';

export interface FileLogger {
  logger: pino.Logger;
  /** The JSON-lines log file. */
  file: string;
  /** Flush and close the file (idempotent); later lines are dropped. */
  close(): Promise<void>;
}

export interface FileLoggerOptions {
  file: string;
  /** Debug lines too. @default false */
  verbose?: boolean;
  /** Also write the lines, pretty, on stderr. @default false */
  pretty?: boolean;
  /** Scrubbed from every line before it is written anywhere (the API key). @default [] */
  secrets?: readonly string[];
  /** Fields on every line besides `pid`. */
  base?: Record<string, unknown>;
}

/**
 * pino JSON lines appended to `file` (and pretty on stderr with `pretty`). Every line passes the
 * one redaction (`redactText`: the given secrets and any `Bearer` token) before it is written anywhere.
 */
export function createFileLogger(o: FileLoggerOptions): FileLogger {
  const destination = pino.destination({ dest: o.file, append: true, mkdir: true, sync: false });
  const level = o.verbose ? 'debug' : 'info';
  const streams: pino.StreamEntry[] = [{ level, stream: destination }];
  if (o.pretty) {
    streams.push({
      level: 'debug',
      stream: pretty({ destination: 2, colorize: process.stderr.isTTY, sync: true }),
    });
  }
  const secrets = o.secrets ?? [];
  const logger = pino(
    {
      level,
      base: { pid: process.pid, ...o.base },
      hooks: { streamWrite: (line) => redactText(line, secrets) },
    },
    pino.multistream(streams),
  );
  let closed: Promise<void> | undefined;
  return {
    logger,
    file: o.file,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        // A line logged after close (a late callback: a connection's last error) is dropped, not thrown.
        logger.level = 'silent';
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

/** A run session's log: `<dir>/logs/run-<time>.jsonl`. */
export function createRunLogger(options: { dir: string; verbose?: boolean; secrets?: string[] }): FileLogger {
  const logsDir = join(options.dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const file = join(logsDir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  return createFileLogger({
    file,
    verbose: options.verbose,
    pretty: options.verbose,
    secrets: options.secrets,
  });
}
