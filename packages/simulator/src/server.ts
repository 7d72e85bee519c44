import { randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadFixtureClip } from './_mp4.js';
import { createRequestListener } from './_router.js';
import { SimState } from './_state.js';
import { resolveSimulatorOptions } from './options.js';
import type { Simulator, SimulatorOptions } from './types.js';

/** How long an idle keep-alive connection stays open: longer than common client pools keep theirs. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/**
 * Start a simulator on loopback (port 0: any free port). Options are checked first; invalid ones throw
 * SimulatorConfigError listing every problem.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const opts = resolveSimulatorOptions(options);
  const seed = opts.seed ?? randomInt(0, 2 ** 31);
  const sim = new SimState(opts, seed, await loadFixtureClip());
  const server = createServer({ keepAlive: true, noDelay: true }, createRequestListener(sim));
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(opts.host)}:${port}`;
  sim.baseUrl = url;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    seed,
    ledger: () => sim.ledger.snapshot(),
    update: (partial) => sim.update(partial),
    close() {
      closing ??= new Promise<void>((resolve) => {
        sim.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Wildcard binds are reached through loopback; IPv6 literals need brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '127.0.0.1' || host === 'localhost') return '127.0.0.1';
  if (host === '::' || host === '::1') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
