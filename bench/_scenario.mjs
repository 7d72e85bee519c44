// One `flf2v run` against a simulator child, with everything the limit and poll benchmarks need afterwards:
// the CLI's wall time and resource usage, the ledger, each task's running time and the run's journal.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, cliEnv, readJournal, runNode, startSimChild } from './_lib.mjs';

export const API_ENDPOINTS = ['upload', 'submit', 'status', 'result', 'download'];

export async function runScenario({ dir, manifest, simSpec, flags = [], tasks, name }) {
  const sim = await startSimChild(simSpec);
  const out = join(dir, `out-${name}-${Date.now()}`);
  try {
    const r = await runNode([CLI, 'run', manifest, '--out', out, '--quiet', '--json', ...flags], {
      env: cliEnv(sim.url, dir),
      timeoutMs: 15 * 60_000,
    });
    const { ledger, durations, usage } = await sim.report();
    let summary;
    try {
      summary = JSON.parse(r.stdout);
    } catch {
      throw new Error(`flf2v run printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
    }
    const journal = await readJournal(out);
    const videos = (await readdir(join(out, 'videos')).catch(() => [])).length;
    return {
      ok: r.code === 0 && summary.plan.succeeded === tasks && videos === tasks,
      exitCode: r.code,
      run: r,
      summary,
      ledger,
      durations,
      simulatorUsage: usage,
      journal,
      videos,
    };
  } finally {
    await sim.close();
    await rm(out, { recursive: true, force: true });
  }
}

/** API requests and 429s as the simulator saw them. */
export function requestFigures(ledger) {
  const counts = Object.fromEntries(API_ENDPOINTS.map((e) => [e, ledger.requests.counts[e] ?? 0]));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const rateLimited = Object.values(ledger.rateLimited).reduce((a, b) => a + b, 0);
  return {
    counts,
    total,
    rateLimited,
    rateLimitedByEndpoint: ledger.rateLimited,
    rateLimitedShare: total ? rateLimited / total : 0,
    submitRateLimitedShare: counts.submit ? (ledger.rateLimited.submit ?? 0) / counts.submit : 0,
    submissionsRejected: ledger.submissions.rejected,
  };
}

/** Each accepted task: its provider id, when it was accepted, and its exact running time. */
export function acceptedTasks(ledger, durations) {
  const accepted = ledger.submissions.accepted;
  if (accepted.length !== durations.length) {
    throw new Error(`${accepted.length} accepted submissions but ${durations.length} recorded durations`);
  }
  return accepted.map((a, i) => ({ taskId: a.taskId, acceptedAt: a.at, runningMs: durations[i] }));
}
