import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../packages/batch/src/state/file-store.js';
import { lockPath } from '../../packages/batch/src/state/lock.js';
import { simulator, spawnCli, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { finishAndCheckExactlyOnce, killPlan, runWithKill } from './_kill-plan.js';
import { startKillProxy } from './_proxy.js';
import { prng, readReport, runEnv, SOAK, size, statusCounts, testSeed } from './_support.js';

/**
 * kill -9 at random moments, then the same command again until the run is done.
 *
 * Kill moments are seeded and spread over every stage (see `_kill-plan.ts`).
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
    let kills = 0;
    let sessions = 0;
    let extended = 0;

    try {
      while (kills < KILLS) {
        sessions++;
        const { res, reason } = await runWithKill(args, env, proxy, nextTrigger(), r);
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

      await finishAndCheckExactlyOnce(
        { sim, proxy, out, args, env, tasks, seed, cut, prompt, idOf },
        (before) =>
          console.log(
            `[kill] seed ${seed}: ${kills} kills over ${sessions} sessions (${extended} extensions, ${tasks} tasks);`,
            'kill points:',
            hits,
            `; cut mid-submit: ${cut.size};`,
            statusCounts(before),
          ),
      );
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
