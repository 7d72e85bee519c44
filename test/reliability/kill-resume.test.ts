import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../packages/batch/src/state/file-store.js';
import { lockPath } from '../../packages/batch/src/state/lock.js';
import { simulator, spawnCli, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { type Action, type ProxyEndpoint, startKillProxy } from './_proxy.js';
import {
  checkSubmissions,
  checkVideos,
  prng,
  readReport,
  runEnv,
  SOAK,
  size,
  statusCounts,
  testSeed,
} from './_support.js';

/**
 * kill -9 at random moments, then the same command again until the run is done.
 *
 * Kill moments are seeded and spread over every stage: at a random time after start (start-up, planning, the
 * lock, opening the journal, report writing), and at exact points of requests through a proxy — an upload or a
 * submit arriving (the provider never sees it), right after the provider answered a submit (the task exists;
 * did its taskId reach the journal?), a status or result query, halfway through a video, just after a video.
 *
 * What the runner promises, and what is checked against the simulator's ledger:
 * - no task is lost: at the end every task succeeded;
 * - a task is `unknown` exactly when a kill fell between its durable submit intent and its journaled taskId
 *   (read from the journal after each kill); the ledger shows whether that submit reached the provider;
 *   `--resubmit-unknown` then finishes them, and every re-send is counted in `submissions`;
 * - every other task was accepted by the provider exactly once;
 * - every video is byte-identical to what the simulator served.
 */

const FILE = 'test/reliability/kill-resume.test.ts';
const KILLS = size(20, 200);
const TASKS = size(24, 160);
/** Rows added when the run finishes before all kills were spent (a sheet that grows, as a nightly job's does). */
const MORE = size(8, 40);
/**
 * An event trigger that has not fired is replaced by a plain kill at a random time in this range (late enough
 * that a session usually reaches its event: downloads come a second or two in).
 */
const FALLBACK_MS = [3_000, 5_000] as const;

type Trigger =
  | { kind: 'time'; afterMs: number }
  | { kind: 'event'; endpoint: ProxyEndpoint; nth: number; action: Action };

/** The kinds of kill moment; every one appears in each round of the plan. */
const KINDS: ((r: ReturnType<typeof prng>) => Trigger)[] = [
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
function killPlan(r: ReturnType<typeof prng>): () => Trigger {
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

const prompt = (i: number) => `kill test shot ${i + 1}, 镜头 ${i + 1}`;
const idOf = (i: number) => `shot-${String(i + 1).padStart(3, '0')}`;

describe('kill -9 at random moments, then resume with the same command', () => {
  it(`loses nothing and pays once across ${KILLS} kills`, async () => {
    const seed = testSeed('kill', FILE);
    const r = prng(seed);
    const sim = await simulator({
      seed,
      timings: { pendingMs: 100, runningMs: 500, jitterRatio: 0.3 },
    });
    const proxy = await startKillProxy(sim.url);
    const dir = await tempDir('flf2v-rel-kill-');
    let tasks = TASKS;
    const manifest = await writeCsvJob(dir, tasks, { name: 'kill', prompt });
    const out = join(dir, 'out');
    const env = runEnv(sim, dir, { BAICAI_BASE_URL: proxy.url });
    const args = ['run', manifest, '--out', out, '--quiet', '--max-in-flight', '3'];
    const nextTrigger = killPlan(r);
    const hits: Record<string, number> = {};
    /** Submissions (task id → numbers) that a kill caught between the durable intent and the journaled taskId. */
    const cut = new Map<string, Set<number>>();
    const cutCount = (id: string) => cut.get(id)?.size ?? 0;
    let kills = 0;
    let sessions = 0;
    let extended = 0;

    try {
      while (kills < KILLS) {
        const trigger = nextTrigger();
        sessions++;
        proxy.reset();
        const child = spawnCli(args, { env });
        let reason: string | undefined;
        const kill = (why: string) => {
          if (reason !== undefined || child.exitCode !== null || child.signalCode !== null) return;
          reason = why;
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

        if (res.signal === 'SIGKILL') {
          kills++;
          const what = reason!.replace(/#\d+/, '');
          hits[what] = (hits[what] ?? 0) + 1;
          // Read-only replay of what the dead runner left: intents without an outcome are the cut submits.
          const { state } = await replay(out);
          // (A later kill may come before the next session has journaled them as unknown: count each once.)
          for (const t of state.tasks.values()) {
            for (const n of t.pending) cut.set(t.id, (cut.get(t.id) ?? new Set()).add(n));
          }
          continue;
        }
        // The session ended by itself before its kill: it must have finished the run.
        expect([0, 1], `seed ${seed}: session ${sessions} exited ${res.code}\n${res.stderr}`).toContain(
          res.code,
        );
        const report = await readReport(out);
        const open = report.tasks.filter((t) => t.status !== 'succeeded' && t.status !== 'unknown');
        expect(open, `seed ${seed}: session ${sessions} ended with work left`).toEqual([]);
        tasks += MORE;
        extended++;
        await writeCsvJob(dir, tasks, { name: 'kill', prompt });
      }

      // Resume, without kills, until done: tasks cut mid-submit stay unknown, nothing else is left.
      const finish = await spawnCli(args, { env }).result;
      expect([0, 1], `seed ${seed}: ${finish.stderr}`).toContain(finish.code);
      const before = await readReport(out);
      const unknown = before.tasks.filter((t) => t.status === 'unknown').map((t) => t.id);
      console.log(
        `[kill] seed ${seed}: ${kills} kills over ${sessions} sessions (${extended} extensions, ${tasks} tasks);`,
        'kill points:',
        hits,
        `; cut mid-submit: ${cut.size};`,
        statusCounts(before),
      );
      expect(statusCounts(before).succeeded, `seed ${seed}`).toBe(tasks - unknown.length);
      // Unknown exactly where a kill fell between intent and taskId — no more, no fewer.
      expect(unknown.sort(), `seed ${seed}`).toEqual([...cut.keys()].sort());

      const bodyOf = new Map<string, string>();
      for (let i = 0; i < tasks; i++) {
        const bodies = proxy.submitted.get(prompt(i));
        if (!bodies) continue;
        expect(bodies.size, `seed ${seed}: ${idOf(i)} sent with ${bodies.size} different bodies`).toBe(1);
        bodyOf.set(idOf(i), [...bodies][0]!);
      }
      let ledger = sim.ledger();
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
      console.log(
        `[kill] unknown tasks whose cut submit had reached the provider: ${reached} of ${unknown.length}`,
      );

      // Finish the unknown ones knowingly: each re-send is counted.
      const resubmit = await spawnCli([...args, '--resubmit-unknown'], { env }).result;
      expect(resubmit.code, `seed ${seed}: ${resubmit.stderr}`).toBe(0);
      const report = await readReport(out);
      ledger = sim.ledger();
      expect(report.tasks).toHaveLength(tasks);
      expect(statusCounts(report), `seed ${seed}`).toEqual({ succeeded: tasks });
      for (let i = 0; i < tasks; i++) {
        const bodies = proxy.submitted.get(prompt(i));
        if (bodies) bodyOf.set(idOf(i), [...bodies][0]!);
      }
      const after = checkSubmissions(ledger, report, bodyOf);
      for (const t of report.tasks) {
        const accepted = after.acceptedByTask.get(t.id) ?? 0;
        expect(t.submissions, `seed ${seed}: ${t.id}`).toBe(1 + cutCount(t.id));
        expect(accepted, `seed ${seed}: ${t.id}`).toBeGreaterThanOrEqual(1);
        expect(accepted, `seed ${seed}: ${t.id}`).toBeLessThanOrEqual(t.submissions);
      }
      expect(await checkVideos(ledger, out, report), `seed ${seed}`).toBe(tasks);
      if (!SOAK) {
        // Every kind of moment was hit at least once (the plan cycles through all of them).
        expect(
          Object.keys(hits).some((k) => k.startsWith('submit')),
          `seed ${seed}`,
        ).toBe(true);
        expect(
          Object.keys(hits).some((k) => k.startsWith('download')),
          `seed ${seed}`,
        ).toBe(true);
      }
    } finally {
      await proxy.close();
    }
  });

  // Regression: a runner killed between creating its lock file (O_EXCL) and writing its holder into it used to
  // leave an empty lock.json that blocked `flf2v run` for two minutes (exit 2, "locked by another flf2v
  // process"). Since aee195c the holder is written to a temp file and link()ed into place, so a kill leaves at
  // most that temp file and a lock naming a dead pid; an unreadable lock (from the no-hard-links fallback) is
  // debris after a few seconds. Each of those must let the same command resume.
  it('what a kill during lock acquisition leaves behind does not block the resume', async () => {
    const sim = await simulator();
    const dir = await tempDir('flf2v-rel-kill-');
    const manifest = await writeCsvJob(dir, 2, { name: 'kill' });
    const out = join(dir, 'out');
    const lock = lockPath(out);
    await mkdir(dirname(lock), { recursive: true });
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => dead.on('exit', () => resolve(dead.pid!)));
    const holder = {
      pid: deadPid,
      host: hostname(),
      startedAt: new Date().toISOString(),
      command: 'flf2v run',
    };
    const env = runEnv(sim, dir);
    const run = () => spawnCli(['run', manifest, '--out', out, '--quiet'], { env }).result;

    // Killed after preparing its holder, before placing it: a stray temp file.
    await writeFile(`${lock}.${deadPid}.0badc0de.tmp`, JSON.stringify(holder));
    let res = await run();
    expect(res.code, res.stderr).toBe(0);
    // Killed after placing it: a lock naming a process that is gone.
    await writeFile(lock, JSON.stringify(holder));
    res = await run();
    expect(res.code, res.stderr).toBe(0);
    // An empty lock (the fallback where hard links are not supported), old enough to be debris.
    await writeFile(lock, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    res = await run();
    expect(res.code, res.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });
});
