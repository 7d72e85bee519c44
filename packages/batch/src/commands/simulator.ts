import {
  DEMO_PRESET,
  loadSimulatorConfig,
  type Simulator,
  SimulatorConfigError,
  type SimulatorOptions,
  startSimulator,
} from '@flf2v/simulator';
import { EXIT } from '../exit-codes.js';

/**
 * `flf2v simulator`: start the provider stand-in, print its base URL as the first stdout line (scripts read
 * it), and serve until SIGINT/SIGTERM. Flags override the `--config` file. The key is never printed.
 */
export async function simulatorCommand(opts: Record<string, unknown>): Promise<number> {
  // Like the demo's embedded simulator, a standalone one serves clips worth watching unless its config says not.
  let options: SimulatorOptions = { render: DEMO_PRESET.render };
  let sim: Simulator;
  try {
    if (typeof opts.config === 'string')
      options = { ...options, ...(await loadSimulatorConfig(opts.config)) };
    // Flags win over the config file; the simulator's own defaults (port 0, 127.0.0.1) apply last.
    if (typeof opts.port === 'number') options.port = opts.port;
    if (typeof opts.host === 'string') options.host = opts.host;
    if (typeof opts.key === 'string') options.key = opts.key;
    if (typeof opts.seed === 'number') options.seed = opts.seed;
    if (typeof opts.taskFile === 'string') options.taskFile = opts.taskFile;
    if (typeof opts.uploadDir === 'string') options.uploadDir = opts.uploadDir;
    sim = await startSimulator(options);
  } catch (error) {
    const reason =
      error instanceof SimulatorConfigError
        ? error.message
        : `cannot start: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    process.stderr.write(`flf2v simulator: ${reason}\n`);
    return EXIT.CONFIG;
  }

  process.stdout.write(`${sim.url}\n`);
  const accepts = options.key === undefined ? 'any key starting with sk-' : 'only the key given with --key';
  process.stderr.write(
    `flf2v simulator: listening on ${sim.url} (seed ${sim.seed}; accepts ${accepts}; ledger at ${sim.url}/__sim/ledger). Ctrl-C stops it.\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sim.close();
  process.stderr.write('flf2v simulator: stopped\n');
  return EXIT.OK;
}
