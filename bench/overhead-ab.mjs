// Before/after of the overhead scenario (bench/overhead.mjs: N tasks at zero latency, the simulator in its own
// process) between two built checkouts, run in pairs, A then B, so that a busy shared machine slows both alike:
//   node bench/overhead-ab.mjs /path/to/before /path/to/after [--tasks 3000] [--pairs 4]
// Each checkout runs its own CLI and its own simulator; the figures are tasks/s (wall, CLI process) and CPU s.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: o, positionals: roots } = parseArgs({
  allowPositionals: true,
  options: { tasks: { type: 'string', default: '3000' }, pairs: { type: 'string', default: '4' } },
});
if (roots.length !== 2) {
  console.error('usage: node bench/overhead-ab.mjs BEFORE_ROOT AFTER_ROOT [--tasks N] [--pairs K]');
  process.exit(2);
}
const tasks = Number(o.tasks);
const SIM = {
  seed: 1,
  timings: { pendingMs: 0, runningMs: 0, jitterRatio: 0 },
  limits: { submit: null, query: null, upload: null, maxRunningPerKey: null },
  requestLogLimit: 0,
};

async function once(root) {
  const lib = await import(pathToFileURL(join(root, 'bench/_lib.mjs')).href);
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-ab-'));
  try {
    const manifest = await lib.writeManifest(dir, tasks);
    const sim = await lib.startSimChild(SIM);
    try {
      const r = await lib.runNode([lib.CLI, 'run', manifest, '--out', join(dir, 'out'), '--quiet'], {
        env: lib.cliEnv(sim.url, dir),
        timeoutMs: 15 * 60_000,
      });
      if (r.code !== 0) throw new Error(`${root}: flf2v run exited ${r.code}`);
      return { tps: tasks / r.seconds, cpuS: r.cpuMs / 1000 };
    } finally {
      await sim.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (let i = 0; i < Number(o.pairs); i++) {
  const a = await once(roots[0]);
  const b = await once(roots[1]);
  rows.push({ a, b });
  console.log(
    `pair ${i + 1}: A ${a.tps.toFixed(0)} tasks/s, ${a.cpuS.toFixed(2)} s CPU · B ${b.tps.toFixed(0)} tasks/s, ${b.cpuS.toFixed(2)} s CPU`,
  );
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(
  `median of ${rows.length} pairs: A ${median(rows.map((r) => r.a.tps)).toFixed(0)} tasks/s, ${median(rows.map((r) => r.a.cpuS)).toFixed(2)} s CPU · ` +
    `B ${median(rows.map((r) => r.b.tps)).toFixed(0)} tasks/s, ${median(rows.map((r) => r.b.cpuS)).toFixed(2)} s CPU · ` +
    `B/A ${median(rows.map((r) => r.b.tps / r.a.tps)).toFixed(3)}`,
);
