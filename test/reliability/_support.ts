import { join } from 'node:path';
import type { Ledger, RequestLogEntry, Simulator } from '@flf2v/simulator';
import { onTestFailed } from 'vitest';
import { cliEnv, type ReportJson, readReport, sha256File } from '../e2e/_helpers.js';

/**
 * Shared pieces of the reliability suite: sizes (CI vs soak), seeded randomness, and the ledger oracles.
 * The simulator's ledger is the oracle throughout: what the report claims is checked against what the
 * provider stand-in actually saw and served.
 */

/** `pnpm test:soak` sets FLF2V_SOAK=1: full sizes. Otherwise the reduced CI sizes. */
// biome-ignore lint/suspicious/noUndeclaredEnvVars: vitest reads it directly; no turbo task depends on it
export const SOAK = process.env.FLF2V_SOAK === '1';

export function size<T>(ci: T, soak: T): T {
  return SOAK ? soak : ci;
}

/**
 * The seed of one test: FLF2V_SEED when given (to reproduce a failure), else a fresh one. Printed at the start
 * and again if the test fails, with the command that replays it.
 */
export function testSeed(name: string, file: string): number {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: vitest reads it directly; no turbo task depends on it
  const fromEnv = process.env.FLF2V_SEED;
  const seed = fromEnv ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
  const how = `FLF2V_SEED=${seed}${SOAK ? ' FLF2V_SOAK=1' : ''} npx vitest run --project reliability ${file}`;
  console.log(`[${name}] seed ${seed} — reproduce: ${how}`);
  onTestFailed(() => {
    console.error(`[${name}] FAILED with seed ${seed} — reproduce: ${how}`);
  });
  return seed;
}

/** mulberry32: small, fast, good enough to spread kill moments and pick mutations. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** Integer in [lo, hi]. */
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    /** Pick by weight: [[weight, value], …]. */
    weighted: <T>(items: readonly (readonly [number, T])[]): T => {
      const total = items.reduce((s, [w]) => s + w, 0);
      let r = next() * total;
      for (const [w, v] of items) {
        r -= w;
        if (r < 0) return v;
      }
      return items.at(-1)![1];
    },
  };
}
export type Prng = ReturnType<typeof prng>;

/** The CLI's environment with a cache directory of this test's own (a shared one would leak between tests). */
export function runEnv(sim: Simulator, dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'upload-cache'), ...extra });
}

/** The ledger's `bodyHash` of a submitted body, computed as the simulator computes it. */
export { submissionBodyHash as bodyHash } from '@flf2v/simulator';

/** The ledger endpoint names and the client's call classes (status and result share `query`). */
export const CALL_CLASS: Record<string, string> = {
  upload: 'upload',
  submit: 'submit',
  status: 'query',
  result: 'query',
  download: 'download',
};

/** Requests to the provider endpoints (not the ledger, not frame files). */
export function providerRequests(ledger: Ledger): RequestLogEntry[] {
  return ledger.requests.log.filter((r) => r.endpoint in CALL_CLASS);
}

type Task = ReportJson['tasks'][number];

/**
 * Submissions against the ledger. Every accepted submission is attributed to a task: through the taskId the
 * task holds, else (an answer that never arrived) to one of the tasks whose outcome is unknown. Checks:
 * - in total, the simulator accepted no more submissions than the report discloses;
 * - per task, no more than its `submissions` (orphans — accepted bodies no task holds a taskId for — are
 *   matched to unknown tasks, largest group to largest count, which is feasible iff any assignment is);
 * Returns the accepted count per report task id where it is known, and the orphan groups.
 */
export function checkSubmissions(
  ledger: Ledger,
  report: ReportJson,
  /** Exact body hash per task id, when the test knows it (its proxy saw the bodies). */
  bodyOf?: ReadonlyMap<string, string>,
): { acceptedByTask: Map<string, number>; orphanGroups: number[] } {
  const accepted = ledger.submissions.accepted;
  const disclosed = report.tasks.reduce((n, t) => n + t.submissions, 0);
  if (accepted.length > disclosed) {
    throw new Error(
      `the simulator accepted ${accepted.length} submissions; the report discloses ${disclosed}`,
    );
  }
  const bodyByTaskId = new Map(accepted.map((s) => [s.taskId, s.bodyHash]));
  const perBody = new Map<string, number>();
  for (const s of accepted) perBody.set(s.bodyHash, (perBody.get(s.bodyHash) ?? 0) + 1);
  const bodyOfTask = (t: Task): string | undefined =>
    bodyOf?.get(t.id) ?? (t.taskId ? bodyByTaskId.get(t.taskId) : undefined);
  const acceptedByTask = new Map<string, number>();
  const claimed = new Set<string>();
  for (const t of report.tasks) {
    const body = bodyOfTask(t);
    if (t.taskId && !bodyByTaskId.has(t.taskId)) {
      throw new Error(`${t.id}: holds taskId ${t.taskId}, which the simulator never issued`);
    }
    if (!body) continue;
    claimed.add(body);
    const n = perBody.get(body) ?? 0;
    acceptedByTask.set(t.id, n);
    if (n > t.submissions) {
      throw new Error(`${t.id}: the simulator accepted it ${n} times, but the report says ${t.submissions}`);
    }
  }
  const orphanGroups = [...perBody.entries()]
    .filter(([body]) => !claimed.has(body))
    .map(([, n]) => n)
    .sort((a, b) => b - a);
  const unknown = report.tasks
    .filter((t) => !bodyOfTask(t) && t.status === 'unknown')
    .map((t) => t.submissions)
    .sort((a, b) => b - a);
  if (orphanGroups.length > unknown.length) {
    throw new Error(
      `${orphanGroups.length} bodies were accepted that no task holds a taskId for, but only ${unknown.length} task(s) are unknown`,
    );
  }
  orphanGroups.forEach((n, i) => {
    if (n > unknown[i]!) {
      throw new Error(
        `an orphan body was accepted ${n} times; no unknown task discloses that many submissions`,
      );
    }
  });
  return { acceptedByTask, orphanGroups };
}

/**
 * Every video of every succeeded task is on disk, has the recorded sha256, and is byte-identical to what the
 * simulator served for (taskId, index).
 */
export async function checkVideos(ledger: Ledger, outDir: string, report: ReportJson): Promise<number> {
  const served = new Map(ledger.videos.map((v) => [`${v.taskId}/${v.index}`, v.sha256]));
  let checked = 0;
  for (const task of report.tasks) {
    if (task.status !== 'succeeded') continue;
    if (task.videos.length === 0) throw new Error(`${task.id}: succeeded without a video`);
    for (const [i, video] of task.videos.entries()) {
      const onDisk = await sha256File(join(outDir, video.path));
      if (onDisk !== video.sha256)
        throw new Error(`${task.id}: ${video.path} does not match its recorded sha256`);
      const want = served.get(`${task.taskId}/${i}`);
      if (want !== onDisk) {
        throw new Error(`${task.id}: ${video.path} is not what the simulator served for ${task.taskId}/${i}`);
      }
      checked++;
    }
  }
  return checked;
}

export { type ReportJson, readReport };

/** Count of tasks per status in a report. */
export function statusCounts(report: ReportJson): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of report.tasks) out[t.status] = (out[t.status] ?? 0) + 1;
  return out;
}
