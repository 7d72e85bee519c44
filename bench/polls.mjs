// Poll economy: tasks of a known running time (5 s ± 10 %, then ± 30 %), submitted at a steady rate the runner
// is told (so tasks stream in and finish one after another, as under a real provider's limits) and no in-flight
// cap, so each task finishes exactly `runningMs` after the simulator accepted it. Figures: queries per task
// (status + result, from the ledger) and how late the runner noticed each completion, relative to the task's
// running time: (journal `completed` − (accepted + runningMs)) / runningMs. The `completed` record is written
// after the result query that follows the status query that saw COMPLETED, so it includes one loopback round
// trip (about a millisecond).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestOf, describe, load, log, round, verdictLine, writeManifest } from './_lib.mjs';
import { acceptedTasks, requestFigures, runScenario } from './_scenario.mjs';

const TARGET_QUERIES = 3;
const TARGET_DELAY = 0.1;

function simSpec({ meanMs, jitter, submitPerSecond }) {
  return {
    seed: 5,
    timings: { pendingMs: 0 },
    durations: { meanMs, jitter, seed: 13 },
    limits: {
      submit: { max: submitPerSecond, windowMs: 1000 },
      query: null,
      upload: null,
      maxRunningPerKey: null,
    },
    requestLogLimit: 0,
  };
}

function analyze(res, tasks) {
  const accepted = acceptedTasks(res.ledger, res.durations);
  const detected = new Map();
  for (const r of res.journal) if (r.t === 'completed') detected.set(r.taskId, Date.parse(r.at));
  const byTask = res.ledger.queries.byTask;
  const rows = accepted.map((a, i) => {
    const endAt = a.acceptedAt + a.runningMs;
    const at = detected.get(a.taskId);
    const q = byTask[a.taskId] ?? { status: 0, result: 0 };
    return {
      order: i,
      runningMs: a.runningMs,
      delayMs: at - endAt,
      relDelay: (at - endAt) / a.runningMs,
      queries: q.status + q.result,
    };
  });
  // Before the first completion the planner knows nothing; "warm" tasks were submitted after it.
  const firstDone = Math.min(...accepted.map((a) => a.acceptedAt + a.runningMs));
  const warm = rows.filter((_, i) => accepted[i].acceptedAt >= firstDone);
  const req = requestFigures(res.ledger);
  // By running time (quarters of the range): who waits, and how many polls each pays.
  const sortedD = rows.map((r) => r.runningMs).sort((a, b) => a - b);
  const edges = [0.25, 0.5, 0.75].map((q) => sortedD[Math.floor(q * (sortedD.length - 1))]);
  const byRunningTime = [0, 1, 2, 3].flatMap((k) => {
    const lo = k === 0 ? 0 : edges[k - 1];
    const hi = k === 3 ? Number.POSITIVE_INFINITY : edges[k];
    const part = rows.filter((r) => r.runningMs >= lo && r.runningMs < hi);
    if (part.length === 0) return [];
    return {
      runningMs: `${Math.min(...part.map((r) => r.runningMs))}–${Math.max(...part.map((r) => r.runningMs))}`,
      tasks: part.length,
      relDelayMean: round(describe(part.map((r) => r.relDelay)).mean, 4),
      queriesMean: round(describe(part.map((r) => r.queries)).mean, 2),
    };
  });
  const rel = describe(rows.map((r) => r.relDelay));
  const relWarm = describe(warm.map((r) => r.relDelay));
  return {
    ok: res.ok && rows.every((r) => Number.isFinite(r.delayMs)),
    exitCode: res.exitCode,
    queriesPerTask: round((req.counts.status + req.counts.result) / tasks, 3),
    statusPerTask: round(req.counts.status / tasks, 3),
    queriesPerTaskWarm: round(describe(warm.map((r) => r.queries)).mean, 3),
    relDelay: {
      mean: round(rel.mean, 4),
      median: round(rel.median, 4),
      p90: round(rel.p90, 4),
      max: round(rel.max, 4),
    },
    relDelayWarm: {
      tasks: warm.length,
      mean: round(relWarm.mean, 4),
      median: round(relWarm.median, 4),
      p90: round(relWarm.p90, 4),
    },
    byRunningTime,
    delayMsMean: round(describe(rows.map((r) => r.delayMs)).mean, 0),
    earlyDetections: rows.filter((r) => r.delayMs < -5).length,
    wallS: round(res.run.seconds, 2),
    rateLimited: req.rateLimited,
  };
}

export async function polls({ tasks = 150, repeat = 2 } = {}) {
  const submitPerSecond = 6;
  const cases = [
    { name: 'jitter-10', cfg: { meanMs: 5000, jitter: 0.1, submitPerSecond } },
    { name: 'jitter-30', cfg: { meanMs: 5000, jitter: 0.3, submitPerSecond } },
  ];
  const flags = ['--submit-rpm', String(submitPerSecond * 60)];
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-bench-polls-'));
  try {
    const manifest = await writeManifest(dir, tasks);
    const results = [];
    for (const c of cases) {
      const runs = [];
      for (let i = 0; i < repeat; i++) {
        const before = load();
        log(`polls ${c.name} ${i + 1}/${repeat}: ${tasks} tasks… (load ${before.one})`);
        const res = await runScenario({ dir, manifest, simSpec: simSpec(c.cfg), flags, tasks, name: c.name });
        const a = { load: before, ...analyze(res, tasks) };
        log(
          `  ${a.queriesPerTask} queries/task, detection delay mean ${round(a.relDelay.mean * 100, 1)}% (p90 ${round(a.relDelay.p90 * 100, 1)}%) of task time`,
        );
        runs.push(a);
      }
      const q = bestOf(
        runs.map((r) => r.queriesPerTask),
        'lower',
      );
      const d = bestOf(
        runs.map((r) => r.relDelay.mean),
        'lower',
      );
      results.push({
        name: c.name,
        config: c.cfg,
        flags,
        queriesPerTask: q,
        relDelayMean: d,
        pass: { queries: q.best <= TARGET_QUERIES, delay: d.best <= TARGET_DELAY },
        runs,
      });
    }
    return {
      tasks,
      target: { queriesPerTask: TARGET_QUERIES, relDelayMean: TARGET_DELAY },
      simulator: simSpec(cases[0].cfg),
      cases: results,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function printPolls(r) {
  const lines = [`polls — ${r.tasks} tasks of 5 s, submitted at 6/s (known), no in-flight cap`];
  for (const c of r.cases) {
    const run = c.runs.find((x) => x.queriesPerTask === c.queriesPerTask.best) ?? c.runs[0];
    lines.push(
      verdictLine(
        `${c.name} queries per task`,
        `${c.queriesPerTask.best} (runs ${c.queriesPerTask.runs.join(', ')}; after the first completion ${run.queriesPerTaskWarm})`,
        '',
        `≤ ${r.target.queriesPerTask}`,
        c.pass.queries,
      ),
      verdictLine(
        `${c.name} detection delay`,
        `mean ${round(c.relDelayMean.best * 100, 1)}% of task time (runs ${c.relDelayMean.runs.map((x) => `${round(x * 100, 1)}%`).join(', ')}; p90 ${round(run.relDelay.p90 * 100, 1)}%; after the first completion mean ${round(run.relDelayWarm.mean * 100, 1)}%)`,
        '',
        `≤ ${r.target.relDelayMean * 100}%`,
        c.pass.delay,
      ),
    );
  }
  return lines.join('\n');
}
