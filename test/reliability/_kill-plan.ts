import type { Simulator } from '@flf2v/simulator';
import { expect } from 'vitest';
import { type CliResult, spawnCli } from '../e2e/_helpers.js';
import type { Action, KillProxy, ProxyEndpoint } from './_proxy.js';
import {
  checkSubmissions,
  checkVideos,
  type Prng,
  type ReportJson,
  readReport,
  statusCounts,
} from './_support.js';

/**
 * Where a kill -9 can land, for the tests that kill runners and resume them: at a random time after start
 * (start-up, planning, the lock, opening the journal, report writing), and at exact points of requests through
 * the kill proxy — an upload or a submit arriving (the provider never sees it), right after the provider answered
 * a submit (the task exists; did its taskId reach the journal?), a status or result query, halfway through a
 * video, just after a video.
 */

export type Trigger =
  | { kind: 'time'; afterMs: number }
  | { kind: 'event'; endpoint: ProxyEndpoint; nth: number; action: Action };

/**
 * An event trigger that has not fired is replaced by a plain kill at a random time in this range (late enough
 * that a session usually reaches its event: downloads come a second or two in).
 */
export const FALLBACK_MS = [3_000, 5_000] as const;

/** The kinds of kill moment; every one appears in each round of the plan. */
export const KINDS: ((r: Prng) => Trigger)[] = [
  (r) => ({ kind: 'time', afterMs: r.int(0, 2_500) }),
  (r) => ({ kind: 'time', afterMs: r.int(300, 1_500) }),
  (r) => ({ kind: 'event', endpoint: 'upload', nth: r.int(1, 2), action: { kind: 'kill-on-arrival' } }),
  (r) => ({
    kind: 'event',
    endpoint: 'upload',
    nth: r.int(1, 2),
    action: { kind: 'kill-after-response', delayMs: r.int(0, 5) },
  }),
  (r) => ({ kind: 'event', endpoint: 'submit', nth: r.int(1, 3), action: { kind: 'kill-on-arrival' } }),
  (r) => ({
    kind: 'event',
    endpoint: 'submit',
    nth: r.int(1, 3),
    action: { kind: 'kill-after-response', delayMs: r.int(0, 30) },
  }),
  (r) => ({ kind: 'event', endpoint: 'status', nth: r.int(1, 4), action: { kind: 'kill-on-arrival' } }),
  (r) => ({
    kind: 'event',
    endpoint: 'result',
    nth: r.int(1, 2),
    action: { kind: 'kill-after-response', delayMs: r.int(0, 10) },
  }),
  (r) => ({ kind: 'event', endpoint: 'download', nth: r.int(1, 2), action: { kind: 'kill-mid-body' } }),
  // Just after a video: the journal record, the next stage, and (after the last one) the final report.
  (r) => ({
    kind: 'event',
    endpoint: 'download',
    nth: r.int(1, 3),
    action: { kind: 'kill-after-response', delayMs: r.int(0, 400) },
  }),
];

/**
 * The kill moment of each session: rounds of every kind in a seeded order (uploads first: only the first
 * sessions upload). An event that does not come (nothing left to upload, say) falls back to a random time.
 */
export function killPlan(r: Prng): () => Trigger {
  const queue: Trigger[] = [];
  let first = true;
  return () => {
    if (queue.length === 0) {
      const round = KINDS.map((make) => make(r));
      for (let i = round.length - 1; i > 0; i--) {
        const j = r.int(0, i);
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
      if (first) round.sort((a, b) => rank(a) - rank(b));
      first = false;
      queue.push(...round);
    }
    return queue.shift()!;
  };
}
const rank = (t: Trigger) => (t.kind === 'event' && t.endpoint === 'upload' ? 0 : 1);

export interface KilledSession {
  res: CliResult;
  /** Why it was killed (`submit#2`-style for events, `time`, `time (fallback)`); undefined when it ended by itself. */
  reason?: string;
  /** Epoch ms of the kill. */
  killedAt?: number;
}

/** One session of `flf2v <args>` through the proxy, killed -9 at `trigger` unless it ends first. */
export async function runWithKill(
  args: string[],
  env: NodeJS.ProcessEnv,
  proxy: KillProxy,
  trigger: Trigger,
  r: Prng,
): Promise<KilledSession> {
  proxy.reset();
  const child = spawnCli(args, { env });
  let reason: string | undefined;
  let killedAt: number | undefined;
  const kill = (why: string) => {
    if (reason !== undefined || child.exitCode !== null || child.signalCode !== null) return;
    reason = why;
    killedAt = Date.now();
    child.kill('SIGKILL');
  };
  proxy.kill = kill;
  proxy.decide = (req) =>
    trigger.kind === 'event' && req.endpoint === trigger.endpoint && req.nth === trigger.nth
      ? trigger.action
      : { kind: 'forward' };
  const timer = setTimeout(
    () => kill(trigger.kind === 'time' ? 'time' : 'time (fallback)'),
    trigger.kind === 'time' ? trigger.afterMs : r.int(...FALLBACK_MS),
  );
  const res = await child.result;
  clearTimeout(timer);
  proxy.decide = () => ({ kind: 'forward' });
  return res.signal === 'SIGKILL' ? { res, reason, killedAt } : { res };
}

export interface ExactlyOnceCheck {
  sim: Simulator;
  proxy: KillProxy;
  out: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Tasks in the manifest now. */
  tasks: number;
  seed: number;
  /** Submissions (task id → numbers) that a kill caught between the durable intent and the journaled taskId. */
  cut: ReadonlyMap<string, ReadonlySet<number>>;
  prompt: (i: number) => string;
  idOf: (i: number) => string;
  /** Called before each of the two closing sessions (a test may pause there). */
  beforeSession?: () => Promise<void>;
  /** How a closing session is run. @default a plain spawn of the CLI */
  run?: (args: string[]) => Promise<CliResult>;
}

/**
 * The end of a kill test, against the simulator's ledger: resume without kills until done — tasks cut
 * mid-submit stay `unknown`, exactly those, nothing else is left, and every other task was accepted once and
 * disclosed once — then `--resubmit-unknown` finishes them with each re-send counted, and every video is
 * byte-identical to what the simulator served.
 */
export async function finishAndCheckExactlyOnce(
  c: ExactlyOnceCheck,
  describeBefore: (before: ReportJson) => void,
): Promise<void> {
  const { seed, out, tasks, proxy, cut } = c;
  const run = c.run ?? ((args: string[]) => spawnCli(args, { env: c.env }).result);
  const cutCount = (id: string) => cut.get(id)?.size ?? 0;
  await c.beforeSession?.();
  const finish = await run(c.args);
  expect([0, 1], `seed ${seed}: ${finish.stderr}`).toContain(finish.code);
  const before = await readReport(out);
  const unknown = before.tasks.filter((t) => t.status === 'unknown').map((t) => t.id);
  describeBefore(before);
  expect(statusCounts(before).succeeded, `seed ${seed}`).toBe(tasks - unknown.length);
  // Unknown exactly where a kill fell between intent and taskId — no more, no fewer.
  expect(unknown.sort(), `seed ${seed}`).toEqual([...cut.keys()].sort());

  const bodyOf = new Map<string, string>();
  for (let i = 0; i < tasks; i++) {
    const bodies = proxy.submitted.get(c.prompt(i));
    if (!bodies) continue;
    expect(bodies.size, `seed ${seed}: ${c.idOf(i)} sent with ${bodies.size} different bodies`).toBe(1);
    bodyOf.set(c.idOf(i), [...bodies][0]!);
  }
  let ledger = c.sim.ledger();
  const { acceptedByTask } = checkSubmissions(ledger, before, bodyOf);
  let reached = 0;
  for (const t of before.tasks) {
    const accepted = acceptedByTask.get(t.id) ?? 0;
    if (t.status === 'unknown') {
      // The cut submit did or did not reach the provider; either way it is disclosed.
      expect(t.submissions, `seed ${seed}: ${t.id}`).toBe(cutCount(t.id));
      expect(accepted, `seed ${seed}: ${t.id}`).toBeLessThanOrEqual(t.submissions);
      reached += accepted;
    } else {
      // Exactly once: accepted once, disclosed once.
      expect([accepted, t.submissions], `seed ${seed}: ${t.id}`).toEqual([1, 1]);
    }
  }
  console.log(`unknown tasks whose cut submit had reached the provider: ${reached} of ${unknown.length}`);

  // Finish the unknown ones knowingly: each re-send is counted.
  await c.beforeSession?.();
  const resubmit = await run([...c.args, '--resubmit-unknown']);
  expect(resubmit.code, `seed ${seed}: ${resubmit.stderr}`).toBe(0);
  const report = await readReport(out);
  ledger = c.sim.ledger();
  expect(report.tasks).toHaveLength(tasks);
  expect(statusCounts(report), `seed ${seed}`).toEqual({ succeeded: tasks });
  for (let i = 0; i < tasks; i++) {
    const bodies = proxy.submitted.get(c.prompt(i));
    if (bodies) bodyOf.set(c.idOf(i), [...bodies][0]!);
  }
  const after = checkSubmissions(ledger, report, bodyOf);
  for (const t of report.tasks) {
    const accepted = after.acceptedByTask.get(t.id) ?? 0;
    expect(t.submissions, `seed ${seed}: ${t.id}`).toBe(1 + cutCount(t.id));
    expect(accepted, `seed ${seed}: ${t.id}`).toBeGreaterThanOrEqual(1);
    expect(accepted, `seed ${seed}: ${t.id}`).toBeLessThanOrEqual(t.submissions);
  }
  expect(await checkVideos(ledger, out, report), `seed ${seed}`).toBe(tasks);
}
