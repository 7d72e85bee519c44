/**
 * The `flf2v` command line. This file is the CLI contract in one place (commands, options, defaults); each
 * command's behaviour lives in `commands/<name>.ts` and returns an exit code.
 */

import { isFlf2vError } from '@flf2v/core/rules';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { TOOL_VERSION } from './version.js';

function positiveNumber(flag: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag}: expected a number > 0, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
}

function positiveInt(flag: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag}: expected a whole number > 0, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
}

function port(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`--port: expected a port from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** `90s`, `30m`, `2h`, or plain milliseconds. */
export function parseDurationMs(flag: string) {
  return (raw: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
    if (!m)
      throw new InvalidArgumentError(
        `${flag}: expected a duration like 90s, 30m or 2h, got ${JSON.stringify(raw)}`,
      );
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'] ?? 1;
    return Math.round(Number(m[1]) * unit);
  };
}

/** The provider's limits (per API key: on the Redis backend, for all its workers together). */
function limitOptions(cmd: Command): Command {
  return cmd
    .option(
      '--submit-rpm <n>',
      'submissions per minute (default: adapt to 429s)',
      positiveNumber('--submit-rpm'),
    )
    .option(
      '--query-rpm <n>',
      'status/result queries per minute (default: adapt)',
      positiveNumber('--query-rpm'),
    )
    .option(
      '--max-in-flight <n>',
      'tasks running at the provider at once (default: adapt)',
      positiveInt('--max-in-flight'),
    );
}

/** How a manifest is read: `validate`, `run`, `enqueue`. */
function manifestOptions(cmd: Command): Command {
  return cmd
    .option('--strict', "make a mismatch between a task's two frame aspect ratios an error, not a warning")
    .option('--encoding <name>', 'CSV encoding, e.g. windows-1252, gbk, shift_jis (default: detect)')
    .option(
      '--no-prepare',
      'send frames exactly as they are: PNG and JPEG only, not converted, turned upright or fitted',
    );
}

/** What to do with tasks an earlier session left unknown, failed or still running: `run`, `enqueue`. */
function resumeOptions(cmd: Command): Command {
  return cmd
    .option(
      '--resubmit-unknown',
      're-send tasks whose earlier submission may or may not have reached the provider',
    )
    .option('--retry-failed', 're-run failed tasks (a failed task that has a taskId is polled again first)')
    .addOption(
      new Option('--task-timeout <duration>', 'report a task stalled after this long at the provider')
        .argParser(parseDurationMs('--task-timeout'))
        .default(30 * 60_000, '30m'),
    );
}

/** Options shared by the commands that talk to the provider. */
function providerOptions(cmd: Command): Command {
  return limitOptions(cmd)
    .option(
      '--simulator',
      'run against an embedded local simulator instead of the provider (no API key needed)',
    )
    .option('--simulator-config <file>', 'YAML options for the embedded simulator (implies --simulator)')
    .option('--verbose', 'debug logs, pretty, on stderr')
    .option('--quiet', 'no progress output');
}

export function buildProgram(): Command {
  const program = new Command('flf2v')
    .description(
      'Turn a manifest of frame pairs and prompts into videos through the Baicai Infer first/last-frame-to-video API.',
    )
    .version(TOOL_VERSION, '-V, --version')
    // Before any subcommand is added: they copy it, so a bad option of `run` exits 2 like any usage error.
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Environment:
  BAICAI_API_KEY    the API key (never written to any file or output)
  BAICAI_BASE_URL   the provider's base URL (default https://cloud.baicaiinfer.com)

Exit codes:
  0 every task succeeded   1 some tasks failed   2 invalid manifest or usage (nothing sent)
  3 authentication or configuration error       130 interrupted (state saved; the same command resumes)`,
    );

  manifestOptions(
    resumeOptions(
      providerOptions(
        program
          .command('run')
          .description('validate, upload, submit, poll, download and report; the same command again resumes')
          .argument('<manifest>', 'a YAML job file or a CSV')
          .option('--out <dir>', 'run directory (default: runs/<job name>)'),
      ),
    ),
  )
    .option(
      '--retake <id...>',
      'generate these shots again, each as a new take (the same command again continues a take that has not finished)',
    )
    .option(
      '--max-videos <n>',
      'hard cap on videos this run may request (unknown tasks count as spent)',
      positiveInt('--max-videos'),
    )
    .option('--dry-run', 'plan only: validate and print what would be sent; send nothing')
    .option('--json', 'print the final summary as JSON on stdout')
    .option(
      '--salvage-state',
      'accept a damaged state journal: keep every record that passes its checksum, pass over the damaged lines',
    )
    .option(
      '--backend <url>',
      'redis://HOST:PORT[/DB]: keep the run in Redis and work on it here, alongside any flf2v worker',
    )
    .action(async (manifest: string, opts: Record<string, unknown>) => {
      const { runCommand } = await import('./commands/run.js');
      process.exitCode = await runCommand(manifest, opts);
    });

  manifestOptions(
    resumeOptions(
      limitOptions(
        program
          .command('enqueue')
          .description('validate and queue a manifest on a Redis backend for flf2v worker; print the run id')
          .argument('<manifest>', 'a YAML job file or a CSV')
          .requiredOption(
            '--backend <url>',
            'redis://HOST:PORT[/DB] (Redis with appendonly yes, appendfsync always)',
          )
          .option('--out <dir>', 'run directory, seen by every worker (default: runs/<job name>)'),
      ),
    ),
  )
    .option('--json', 'on an invalid manifest, print the plan and its problems as JSON')
    .option('--quiet', 'print only the run id')
    .action(async (manifest: string, opts: Record<string, unknown>) => {
      const { enqueueCommand } = await import('./commands/enqueue.js');
      process.exitCode = await enqueueCommand(manifest, opts);
    });

  program
    .command('worker')
    .description('take the tasks of every run on a Redis backend for the key in BAICAI_API_KEY, until Ctrl-C')
    .requiredOption('--backend <url>', 'redis://HOST:PORT[/DB]')
    .option(
      '--concurrency <n>',
      'tasks this worker drives at once (default 64)',
      positiveInt('--concurrency'),
    )
    .addOption(
      new Option(
        '--stalled-after <duration>',
        'a worker silent this long (killed, frozen) has its tasks taken over',
      )
        .argParser(parseDurationMs('--stalled-after'))
        .default(30_000, '30s'),
    )
    .option('--verbose', 'debug logs, pretty, on stderr')
    .option('--quiet', 'no start and stop lines')
    .action(async (opts: Record<string, unknown>) => {
      const { workerCommand } = await import('./commands/worker.js');
      process.exitCode = await workerCommand(opts);
    });

  manifestOptions(
    program
      .command('validate')
      .description(
        'check a manifest completely, print every problem with its location and a plan summary; send nothing',
      )
      .argument('<manifest>', 'a YAML job file or a CSV'),
  )
    .option('--json', 'machine-readable output')
    .action(async (manifest: string, opts: Record<string, unknown>) => {
      const { validateCommand } = await import('./commands/validate.js');
      process.exitCode = await validateCommand(manifest, opts);
    });

  program
    .command('status')
    .description("print a run directory's totals")
    .argument('<dir>', 'run directory')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, opts: Record<string, unknown>) => {
      const { statusCommand } = await import('./commands/status.js');
      process.exitCode = await statusCommand(dir, opts);
    });

  program
    .command('report')
    .description('re-render report.json, report.html and report.junit.xml from the run state')
    .argument('<dir>', 'run directory')
    .action(async (dir: string, opts: Record<string, unknown>) => {
      const { reportCommand } = await import('./commands/report.js');
      process.exitCode = await reportCommand(dir, opts);
    });

  program
    .command('film')
    .description("join a storyboard run's shots, in order, into one video with ffmpeg")
    .argument('<dir>', 'run directory')
    .option('--out <file>', 'where to write the film (default: <dir>/film.mp4)')
    .action(async (dir: string, opts: Record<string, unknown>) => {
      const { filmCommand } = await import('./commands/film.js');
      process.exitCode = await filmCommand(dir, opts);
    });

  program
    .command('choose')
    .description('choose the take of a shot that its film uses (take 1 until another is chosen)')
    .argument('<dir>', 'run directory')
    .argument('<id>', "the shot's id")
    .argument('<take>', 'the take number', positiveInt('<take>'))
    .action(async (dir: string, id: string, take: number) => {
      const { chooseCommand } = await import('./commands/choose.js');
      process.exitCode = await chooseCommand(dir, id, take);
    });

  program
    .command('simulator')
    .description('start the local provider stand-in and print its base URL')
    .option('--port <n>', 'port to listen on (default: the config file, else 0 = any free port)', port)
    .option('--host <host>', 'address to bind (default: the config file, else 127.0.0.1)')
    .option('--key <key>', 'accept only this API key (default: any key starting with sk-)')
    .option('--config <file>', 'YAML file with simulator options (limits, timings, faults)')
    .option('--seed <n>', 'random seed for reproducible faults', positiveInt('--seed'))
    .option('--task-file <file>', 'keep accepted tasks in this file, and take them back on the next start')
    .option(
      '--upload-dir <dir>',
      'keep uploaded frames in this directory, and know them again on the next start',
    )
    .action(async (opts: Record<string, unknown>) => {
      const { simulatorCommand } = await import('./commands/simulator.js');
      process.exitCode = await simulatorCommand(opts);
    });

  providerOptions(
    program
      .command('schedule')
      .description('run job files on their cron schedules (nightly generation)')
      .argument('<paths...>', 'a jobs directory or job files'),
  )
    .option('--run-now', 'fire every job once at start')
    .option('--full', 'ignore earlier runs: regenerate every task')
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      const { scheduleCommand } = await import('./commands/schedule.js');
      process.exitCode = await scheduleCommand(paths, opts);
    });

  program
    .command('doctor')
    .description('check reachability, auth and answer shapes without creating a paid task')
    .option('--simulator', 'check against an embedded simulator')
    .option('--json', 'machine-readable output')
    .option('--verbose', 'debug logs on stderr')
    .action(async (opts: Record<string, unknown>) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      process.exitCode = await doctorCommand(opts);
    });

  return program;
}

/** Entry point used by `bin/flf2v.js`. Never throws: maps every error to a message and an exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok =
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help';
      process.exitCode = ok ? EXIT.OK : EXIT.USAGE;
      return;
    }
    if (isFlf2vError(error)) {
      process.stderr.write(`flf2v: ${error.message} [${error.code}]\n`);
      process.exitCode = exitCodeFor(error.code);
      return;
    }
    process.stderr.write(
      `flf2v: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT.CONFIG;
  }
}
