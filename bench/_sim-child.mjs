// The simulator in its own process, driven over IPC by the harness (`startSimChild` in _lib.mjs):
//   { op: 'start', arg: spec } → its URL;  { op: 'report' } → { ledger, durations, usage };  { op: 'close' }.
// `spec` is SimulatorOptions as JSON plus an optional `durations: { meanMs, jitter, seed }`: each task's running
// time is then drawn uniformly from meanMs × [1 − jitter, 1 + jitter] by a seeded generator and recorded in the
// order of acceptance (the simulator calls `runningMs` once per accepted submission, just before it records
// the acceptance), so `durations[i]` belongs to `ledger.submissions.accepted[i]`.
import { startSimulator } from '../packages/simulator/dist/index.js';

let sim;
const durations = [];

/** mulberry32: small, seeded, good enough for jitter. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function start(spec) {
  const { durations: d, ...options } = spec;
  if (d) {
    const next = prng(d.seed ?? 1);
    options.timings = {
      ...options.timings,
      jitterRatio: 0,
      runningMs: () => {
        const ms = Math.round(d.meanMs * (1 + (next() * 2 - 1) * d.jitter));
        durations.push(ms);
        return ms;
      },
    };
  }
  sim = await startSimulator({ host: '127.0.0.1', port: 0, ...options });
  return sim.url;
}

const ops = {
  start,
  report: async () => ({ ledger: sim.ledger(), durations, usage: process.resourceUsage() }),
  close: async () => {
    await sim?.close();
    sim = undefined;
  },
};

process.on('message', async ({ id, op, arg }) => {
  try {
    process.send({ id, value: await ops[op](arg) });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
