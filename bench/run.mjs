// `pnpm bench` (after `turbo run build`): every benchmark of issue 9, or the ones named.
//   node bench/run.mjs [overhead|limits|scale|polls|workers ...] [--repeat 2] [--tasks 10000] [--naive-budget 20]
//                      [--limits-tasks 150] [--polls-tasks 120] [--rows 100000] [--journal-tasks 100000] [--profile]
//                      [--workers-tasks 150] [--workers-counts 1,2,4]
// Prints each result and writes bench/results/<name>.json (with the date, machine, load and command) and
// bench/results/latest.txt (the printed summaries). Misses are reported, never turned into a failing exit code;
// only a broken harness exits non-zero. Figures and their meaning: BENCHMARKS.md.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gitCommit, load, log, machine, RESULTS, writeResult } from './_lib.mjs';
import { limits, printLimits } from './limits.mjs';
import { overhead, printOverhead } from './overhead.mjs';
import { polls, printPolls } from './polls.mjs';
import { printScale, scale } from './scale.mjs';
import { printWorkers, workers } from './workers.mjs';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repeat: { type: 'string', default: '2' },
    tasks: { type: 'string', default: '10000' },
    'naive-budget': { type: 'string', default: '20' },
    'limits-tasks': { type: 'string', default: '150' },
    'limits-cases': { type: 'string' },
    'polls-tasks': { type: 'string', default: '120' },
    rows: { type: 'string', default: '100000' },
    'journal-tasks': { type: 'string', default: '100000' },
    'workers-tasks': { type: 'string', default: '150' },
    'workers-counts': { type: 'string', default: '1,2,4' },
    profile: { type: 'boolean', default: false },
  },
});
const repeat = Number(o.repeat);
const BENCHES = {
  overhead: {
    run: () =>
      overhead({
        tasks: Number(o.tasks),
        repeat,
        naiveBudgetS: o['naive-budget'] === 'none' ? undefined : Number(o['naive-budget']),
        profile: o.profile,
      }),
    print: printOverhead,
  },
  limits: {
    run: () => limits({ tasks: Number(o['limits-tasks']), repeat, only: o['limits-cases']?.split(',') }),
    print: printLimits,
  },
  scale: {
    run: () =>
      scale({ rows: Number(o.rows), journalTasks: Number(o['journal-tasks']), repeat, profile: o.profile }),
    print: printScale,
  },
  polls: { run: () => polls({ tasks: Number(o['polls-tasks']), repeat }), print: printPolls },
  workers: {
    run: () =>
      workers({
        tasks: Number(o['workers-tasks']),
        repeat,
        counts: o['workers-counts'].split(',').map(Number),
      }),
    print: printWorkers,
  },
};
const names = positionals.length ? positionals : Object.keys(BENCHES);
const unknown = names.filter((n) => !(n in BENCHES));
if (unknown.length) {
  log(`bench: unknown benchmark ${unknown.join(', ')}; expected ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}

const m = machine();
const command = `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
log(`bench: ${names.join(', ')} on ${m.cores} × ${m.cpu}, Node ${m.node}; load ${load().one}`);
const printed = [];
for (const name of names) {
  const started = new Date();
  const loadBefore = load();
  const result = await BENCHES[name].run();
  const text = BENCHES[name].print(result);
  const file = await writeResult(name, {
    bench: name,
    date: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    machine: m,
    load: { before: loadBefore, after: load() },
    command,
    commit: gitCommit(),
    result,
  });
  process.stdout.write(`\n${text}\n  → ${file}\n`);
  printed.push(`${started.toISOString()}  ${command}\n${text}`);
}
await writeFile(join(RESULTS, 'latest.txt'), `${printed.join('\n\n')}\n`);
