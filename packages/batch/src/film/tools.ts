import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { BatchError } from '../errors.js';

/** Absolute paths of the two programs the film needs. */
export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
}

const INSTALL_HINT =
  'Install ffmpeg (it includes ffprobe): `sudo apt-get install ffmpeg` on Debian/Ubuntu, `brew install ffmpeg` ' +
  'on macOS; or set FFMPEG_PATH and FFPROBE_PATH to the programs.';

/**
 * Find ffmpeg and ffprobe: `FFMPEG_PATH` / `FFPROBE_PATH` when set, else the first executable of that name on
 * `PATH` (both looked up in `env`). Throws `E_FFMPEG_MISSING` saying how to install them.
 */
export async function findFfmpeg(env: NodeJS.ProcessEnv = process.env): Promise<FfmpegTools> {
  const [ffmpeg, ffprobe] = await Promise.all([
    findTool('ffmpeg', env.FFMPEG_PATH, env.PATH),
    findTool('ffprobe', env.FFPROBE_PATH, env.PATH),
  ]);
  return { ffmpeg, ffprobe };
}

async function findTool(name: string, override: string | undefined, path: string | undefined) {
  const variable = `${name.toUpperCase()}_PATH`;
  if (override) {
    if (isAbsolute(override) && (await isExecutable(override))) return override;
    throw new BatchError(
      'E_FFMPEG_MISSING',
      `${variable}=${override} is not an executable file (expected the absolute path of ${name}). ${INSTALL_HINT}`,
    );
  }
  const names = process.platform === 'win32' ? [`${name}.exe`] : [name];
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const file of names) if (await isExecutable(join(dir, file))) return join(dir, file);
  }
  throw new BatchError('E_FFMPEG_MISSING', `${name} was not found on PATH. ${INSTALL_HINT}`);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export interface ToolOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** stderr kept per call: enough for ffmpeg's last lines, bounded however much it logs. */
const STDERR_KEEP_CHARS = 16_384;

/**
 * Run `program` with `args` (no shell) and collect its output. Resolves with the exit code whatever it is.
 * `signal` kills it: then rejects with `E_INTERRUPTED`; one that cannot be started rejects with
 * `E_FFMPEG_MISSING`.
 */
export function runTool(program: string, args: string[], signal?: AbortSignal): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_KEEP_CHARS);
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        signal?.aborted
          ? interrupted(error)
          : new BatchError(
              'E_FFMPEG_MISSING',
              `cannot run ${program} (${error.code ?? error.message}). ${INSTALL_HINT}`,
              {
                cause: error,
              },
            ),
      ),
    );
    child.on('close', (code) =>
      signal?.aborted ? reject(interrupted()) : resolve({ code, stdout, stderr }),
    );
  });
}

function interrupted(cause?: unknown): BatchError {
  return new BatchError('E_INTERRUPTED', 'interrupted: the film was not written', { cause });
}

/** The last non-empty lines of a tool's stderr, for an error message. */
export function tail(stderr: string, lines = 3): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
}
