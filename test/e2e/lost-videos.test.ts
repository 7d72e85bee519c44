import { rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkAgainstLedger,
  cliEnv,
  readReport,
  runCli,
  sha256File,
  simulator,
  tempDir,
  writeCsvJob,
} from './_helpers.js';

/**
 * A finished task's video deleted or cut short after the run: the same command fetches it again with a fresh
 * result query — it is paid for — and never submits the task again.
 */
describe('videos gone from disk', () => {
  it('the same command downloads a deleted or cut-short video again, without a new submission', async () => {
    const sim = await simulator({ timings: { pendingMs: 20, runningMs: 100 } });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 3);
    const out = join(dir, 'out');
    const env = cliEnv(sim);
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env })).code).toBe(0);
    const videos = (await readReport(out)).tasks.map((t) => t.videos[0]!);
    const results = sim.ledger().queries.result;

    await rm(join(out, videos[1]!.path));
    await truncate(join(out, videos[2]!.path), 100);
    const again = await runCli(['run', manifest, '--out', out, '--quiet'], { env });
    expect(again.code, again.stderr).toBe(0);

    for (const v of videos) expect(await sha256File(join(out, v.path))).toBe(v.sha256);
    expect((await readReport(out)).totals).toMatchObject({ tasks: 3, succeeded: 3 });
    expect(sim.ledger().submissions.accepted).toHaveLength(3);
    expect(sim.ledger().queries.result).toBeGreaterThan(results);
    await checkAgainstLedger(sim, out);
  });
});
