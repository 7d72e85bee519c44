import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../packages/batch/src/state/file-store.js';
import { cliEnv, ROOT, readReport, runCli, sha256File, simulator, tempDir } from './_helpers.js';
import { recordsBySession } from './_pause.js';

/**
 * A run directory written by flf2v 0.1.0, killed mid-run (packages/batch/test/fixtures/run-dir-v0.1): the same
 * command resumes it with this version — every task key as 0.1.0 computed it, nothing redone, nothing re-sent.
 */
const FIXTURE = join(ROOT, 'packages/batch/test/fixtures/run-dir-v0.1');
const FIXTURE_KEY = 'sk-fixture-not-a-real-key-000000';

describe('a run directory written by 0.1.0', () => {
  it('resumes with the same command: same task keys, nothing sent twice, unknown left alone', async () => {
    const dir = await tempDir();
    await cp(FIXTURE, dir, { recursive: true });
    const out = join(dir, 'out');
    const before = (await replay(out)).state;
    const phases = (phase: string) => [...before.tasks.values()].filter((t) => t.phase === phase);
    expect([1, 3, 2, 1, 3]).toEqual(
      ['failed', 'succeeded', 'submitted', 'unknown', 'planned'].map((p) => phases(p).length),
    );
    const videoShas = new Map<string, string>();
    for (const t of phases('succeeded'))
      videoShas.set(t.videos[0]!.path, await sha256File(join(out, t.videos[0]!.path)));

    // The provider still knows the tasks 0.1.0 submitted (its task file), long finished by now.
    const sim = await simulator({ taskFile: join(dir, 'simulator-tasks.jsonl') });
    // Tasks belong to the key they were sent with: the fixture's (not a real key; the simulator takes any sk-…).
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache'), BAICAI_API_KEY: FIXTURE_KEY });
    const args = ['run', join(dir, 'job.yaml'), '--out', out, '--quiet'];
    const resumed = await runCli(args, { env });
    expect(resumed.code, resumed.stderr).toBe(1); // the moderated task failed and the unknown one is left alone

    const session2 = (await recordsBySession(out)).get(2)!;
    // The manifest's tasks are the journal's tasks: no key changed, so nothing was planned anew.
    expect(session2.filter((r) => r.t === 'planned')).toEqual([]);
    // Only the tasks that had never been sent were sent, and each was accepted once (a submit refused because the
    // frame URLs of 0.1.0's session had expired is sent again after a fresh upload; it created nothing).
    const planned = new Set(phases('planned').map((t) => t.key));
    const intents = session2.filter((r) => r.t === 'intent').map((r) => (r as { key: string }).key);
    expect([...new Set(intents)].sort()).toEqual([...planned].sort());
    expect(sim.ledger().submissions.accepted).toHaveLength(planned.size);

    const report = await readReport(out);
    expect(report.totals).toMatchObject({ tasks: 10, succeeded: 8, failed: 1, unknown: 1 });
    for (const [path, sha] of videoShas) expect(await sha256File(join(out, path))).toBe(sha);

    const again = await runCli([...args, '--resubmit-unknown'], { env });
    expect(again.code, again.stderr).toBe(1); // the moderated one stays failed
    expect((await readReport(out)).totals).toMatchObject({ succeeded: 9, failed: 1, unknown: 0 });
    expect(sim.ledger().submissions.accepted).toHaveLength(planned.size + 1);
  });
});
