// Scale: the 100,000-row validate (validate-scale.mjs, spawned as is) and the 100,000-task journal
// (journal-replay.mjs), each repeated.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeHeapProfile } from './_heapprofile.mjs';
import { BENCH, bestOf, CLI, load, log, RESULTS, runNode, verdictLine } from './_lib.mjs';
import { journalReplay } from './journal-replay.mjs';
import { profileLines } from './overhead.mjs';

const TARGET_VALIDATE_S = 5;
const TARGET_VALIDATE_MB = 150;

/** Where the validate heap goes at its peak: the same CSV, validated once more under the heap-peak hook. */
async function validateHeap(rows, profileDir) {
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-bench-validate-heap-'));
  try {
    await runNode([join(BENCH, 'validate-scale.mjs'), '--rows', String(rows), '--keep', dir]);
    await mkdir(profileDir, { recursive: true });
    const file = join(profileDir, 'validate-peak.heapprofile.json');
    await runNode([CLI, 'validate', join(dir, 'bulk.csv')], {
      cwd: dir,
      nodeArgs: ['--import', join(BENCH, '_heap-peak-hook.mjs')],
      env: { BENCH_HEAP_PROFILE: file },
    });
    return { file, ...(await summarizeHeapProfile(file)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function scale({ rows = 100_000, journalTasks = 100_000, repeat = 2, profile = false } = {}) {
  const profileDir = profile ? join(RESULTS, 'profiles', `scale-${Date.now()}`) : undefined;
  const validate = [];
  for (let i = 0; i < repeat; i++) {
    const before = load();
    log(`scale: validate ${rows.toLocaleString('en-US')} rows ${i + 1}/${repeat}… (load ${before.one})`);
    const r = await runNode([join(BENCH, 'validate-scale.mjs'), '--rows', String(rows)]);
    let v;
    try {
      v = JSON.parse(r.stdout.trim().split('\n').pop());
    } catch {
      throw new Error(`validate-scale printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
    }
    log(`  ${v.seconds} s, peak RSS ${v.peakRssMB} MB`);
    validate.push({ load: before, ...v });
  }
  const seconds = bestOf(
    validate.map((v) => v.seconds),
    'lower',
  );
  const rss = bestOf(
    validate.map((v) => v.peakRssMB),
    'lower',
  );
  const heap = profileDir ? await validateHeap(rows, profileDir) : undefined;
  const journal = await journalReplay({ tasks: journalTasks, repeat, profileDir });
  return {
    validate: {
      rows,
      seconds,
      peakRssMB: rss,
      target: { seconds: TARGET_VALIDATE_S, peakRssMB: TARGET_VALIDATE_MB },
      pass: { seconds: seconds.best <= TARGET_VALIDATE_S, peakRssMB: rss.best <= TARGET_VALIDATE_MB },
      ok: validate.every((v) => v.exitCode === 0 && v.tasks === rows),
      runs: validate,
      heap,
    },
    journal,
  };
}

export function printScale(r) {
  const v = r.validate;
  const j = r.journal;
  const s = (x) => `${x.seconds.best} s (runs ${x.seconds.runs.join(', ')}), peak RSS ${x.peakRssMB.best} MB`;
  return [
    `scale — validate ${v.rows.toLocaleString('en-US')} rows; journal of ${j.tasks.toLocaleString('en-US')} finished tasks (${j.journalMB} MB, snapshot ${j.snapshotMB} MB)`,
    verdictLine(
      'validate time',
      `${v.seconds.best} s (runs ${v.seconds.runs.join(', ')})`,
      '',
      `≤ ${v.target.seconds} s`,
      v.pass.seconds,
    ),
    verdictLine(
      'validate peak RSS',
      `${v.peakRssMB.best} MB (runs ${v.peakRssMB.runs.join(', ')})`,
      '',
      `≤ ${v.target.peakRssMB} MB`,
      v.pass.peakRssMB,
    ),
    verdictLine('replay() of the journal', s(j.replayJournal), '', `≤ ${j.target.replaySeconds} s`, j.pass),
    verdictLine('replay() after compaction', s(j.replaySnapshot), ''),
    verdictLine('flf2v status (journal)', s(j.statusJournal), ''),
    verdictLine('flf2v status (compacted)', s(j.statusSnapshot), ''),
    ...(v.heap
      ? [
          `  validate heap at its peak (${v.heap.peakHeapUsedMB} MB used; sampled live ${v.heap.sampledLiveMB} MB), by allocation site:`,
          ...v.heap.sites.slice(0, 8).map((x) => `    ${String(x.MB).padStart(6)} MB  ${x.what}`),
        ]
      : []),
    ...(j.profile ? profileLines(j.profile, 8) : []),
  ].join('\n');
}
