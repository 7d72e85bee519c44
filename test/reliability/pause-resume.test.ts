import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../packages/batch/src/state/file-store.js';
import type { JournalRecord } from '../../packages/batch/src/state/records.js';
import { simulator, spawnCli, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { backdateRun, detectionLags, recordsBySession } from '../e2e/_pause.js';
import { finishAndCheckExactlyOnce, killPlan, runWithKill } from './_kill-plan.js';
import { startKillProxy } from './_proxy.js';
import { prng, readReport, runEnv, size, statusCounts, testSeed } from './_support.js';

/**
 * kill -9 at every kind of moment the kill test uses, then a long pause, then the same command (issue 13).
 *
 * A pause is made without the wait: the run directory is backdated and the simulator's clock jumps ahead by
 * minutes to more than half a day, so the provider finishes what it had, its signed URLs expire (after 1 h) and
 * uploaded frame URLs age out of reuse (after 12 h) while no session runs.
 *
 * Correctness, as in the kill test: nothing lost, nothing paid twice, every video what was served.
 * Timing: nothing learned from time may count the pause. Each round is a kill at the next kind of moment, a
 * pause during which rows are added, and the resumed session watched for `OBSERVE_MS`: every task it sent and
 * watched for longer than a task takes plus `GRACE_MS` it must have seen finish. The closing sessions (after a
 * pause too) must each finish within `FINISH_MS`. Learning the pause as task time would first poll new tasks
 * minutes to hours after they were sent.
 */

const FILE = 'test/reliability/pause-resume.test.ts';
const PAUSES = size(10, 60);
const TASKS = size(16, 80);
const MORE = size(6, 30);
const PENDING_MS = 100;
const RUNNING_MS = 500;
const TASK_MS = PENDING_MS + RUNNING_MS;
/** More than the poll planner ever needs to notice a completion, far less than any pause. */
const GRACE_MS = 2_500;
/** A closing session (the whole remaining run, at most `TASKS + extensions` tasks of 0.6 s, 3 at a time). */
const FINISH_MS = 60_000;
/** How long a resumed session is watched before it is killed in turn. */
const OBSERVE_MS = 5_000;
const MINUTE = 60_000;
const PAUSE_MS = [10 * MINUTE, 3 * 60 * MINUTE, 13 * 60 * MINUTE];

const prompt = (i: number) => `pause test shot ${i + 1}, 镜头 ${i + 1}`;
const idOf = (i: number) => `shot-${String(i + 1).padStart(3, '0')}`;

/**
 * Tasks a session submitted and watched for longer than a task takes plus `GRACE_MS`, yet did not see finish.
 * `endedAt`: when the session was killed (epoch ms).
 */
function missedCompletions(records: JournalRecord[], endedAt: number): string[] {
  const open = new Map<string, number>();
  for (const r of records) {
    if (r.t === 'submitted') open.set(r.key, Date.parse(r.at));
    if (r.t === 'completed' || r.t === 'failed') open.delete(r.key);
  }
  return [...open.entries()]
    .filter(([, at]) => endedAt - at > TASK_MS + GRACE_MS)
    .map(([key, at]) => `${key.slice(0, 8)} submitted ${endedAt - at} ms before the kill`);
}

describe('kill -9, a long pause, then the same command', () => {
  it(`resumes promptly and pays once across ${PAUSES} pauses at every kind of kill point`, async () => {
    const seed = testSeed('pause', FILE);
    const r = prng(seed);
    let offset = 0;
    const sim = await simulator({
      seed,
      clock: () => Date.now() + offset,
      timings: { pendingMs: PENDING_MS, runningMs: RUNNING_MS, jitterRatio: 0 },
    });
    const proxy = await startKillProxy(sim.url);
    const dir = await tempDir('flf2v-rel-pause-');
    let tasks = TASKS;
    const manifest = await writeCsvJob(dir, tasks, { name: 'pause', prompt });
    const out = join(dir, 'out');
    const env = runEnv(sim, dir, { BAICAI_BASE_URL: proxy.url });
    const args = ['run', manifest, '--out', out, '--quiet', '--max-in-flight', '3'];
    const nextTrigger = killPlan(r);
    const cut = new Map<string, Set<number>>();
    const hits: Record<string, number> = {};
    const paused: Record<string, number> = {};
    let pauses = 0;
    let session = 0;

    const pause = async () => {
      const ms = r.pick(PAUSE_MS);
      await backdateRun(out, ms, join(dir, 'upload-cache'));
      offset += ms;
      paused[`${ms / MINUTE} min`] = (paused[`${ms / MINUTE} min`] ?? 0) + 1;
    };
    /** A session that must run to its end, promptly. */
    const runToEnd = async (runArgs: string[]) => {
      session++;
      const child = spawnCli(runArgs, { env });
      const watchdog = setTimeout(() => child.kill('SIGKILL'), FINISH_MS);
      const res = await child.result;
      clearTimeout(watchdog);
      expect(res.signal, `seed ${seed}: session ${session} still going after ${FINISH_MS} ms`).toBeNull();
      return res;
    };

    /** Kills seen: what a dead runner left unanswered is a cut submit (counted once however often it is seen). */
    const noteCut = async () => {
      const { state } = await replay(out);
      for (const t of state.tasks.values()) {
        for (const n of t.pending) cut.set(t.id, (cut.get(t.id) ?? new Set()).add(n));
      }
    };
    /** A session that ended by itself must have finished the run; the sheet then grows (as a nightly one does). */
    const grow = async () => {
      tasks += MORE;
      await writeCsvJob(dir, tasks, { name: 'pause', prompt });
    };
    const endedByItself = async (res: { code: number | null; stderr: string }) => {
      expect([0, 1], `seed ${seed}: session ${session} exited ${res.code}\n${res.stderr}`).toContain(
        res.code,
      );
      const open = (await readReport(out)).tasks.filter(
        (t) => t.status !== 'succeeded' && t.status !== 'unknown',
      );
      expect(open, `seed ${seed}: session ${session} ended with work left`).toEqual([]);
    };

    try {
      while (pauses < PAUSES) {
        // 1. Killed at the next kind of moment.
        session++;
        const { res, reason, killedAt } = await runWithKill(args, env, proxy, nextTrigger(), r);
        if (killedAt !== undefined) {
          const what = reason!.replace(/#\d+/, '');
          hits[what] = (hits[what] ?? 0) + 1;
          await noteCut();
        } else {
          await endedByItself(res);
        }
        // 2. A long pause; meanwhile rows were added, so the resumed session has new tasks to send.
        await pause();
        pauses++;
        await grow();
        // 3. The resumed session, watched for `OBSERVE_MS`: every task it sent and watched for longer than a
        //    task takes (plus grace) it must have seen finish.
        session++;
        const observed = await runWithKill(args, env, proxy, { kind: 'time', afterMs: OBSERVE_MS }, r);
        if (observed.killedAt !== undefined) {
          await noteCut();
          const records = (await recordsBySession(out)).get(session) ?? [];
          expect(missedCompletions(records, observed.killedAt), `seed ${seed}: session ${session}`).toEqual(
            [],
          );
        } else {
          await endedByItself(observed.res);
          await grow();
        }
      }
      // The closing sessions come after a pause too, with rows added: they must finish promptly.
      await grow();
      await finishAndCheckExactlyOnce(
        { sim, proxy, out, args, env, tasks, seed, cut, prompt, idOf, beforeSession: pause, run: runToEnd },
        (before) =>
          console.log(
            `[pause] seed ${seed}: ${pauses} pauses over ${session} sessions (${tasks} tasks); pauses:`,
            paused,
            '; kill points:',
            hits,
            `; cut mid-submit: ${cut.size};`,
            statusCounts(before),
          ),
      );
      // Every session that submitted and then saw tasks finish saw them finish promptly.
      for (const [n, records] of await recordsBySession(out)) {
        for (const { taskId, lagMs } of detectionLags(records, TASK_MS)) {
          expect(lagMs, `seed ${seed}: session ${n}: ${taskId} noticed ${lagMs} ms late`).toBeLessThan(
            GRACE_MS,
          );
        }
      }
    } finally {
      await proxy.close();
    }
  });
});
