import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkAgainstLedger,
  cliEnv,
  readReport,
  runCli,
  simulator,
  tempDir,
  writeCsvJob,
} from './_helpers.js';

describe('flf2v run options', () => {
  it('a malformed or unknown option exits 2 (usage), naming the flag, and sends nothing', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 2);
    const out = join(dir, 'out');
    const bad = await runCli(['run', manifest, '--out', out, '--max-videos', 'ten'], { env: cliEnv(sim) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-videos: expected a whole number > 0, got "ten"');
    const unknown = await runCli(['run', manifest, '--out', out, '--max-video', '3'], { env: cliEnv(sim) });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--max-video'/);
    expect(sim.ledger().requests.log).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('--dry-run prints the plan and sends nothing', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 5);
    const out = join(dir, 'out');
    const res = await runCli(['run', manifest, '--out', out, '--dry-run'], { env: cliEnv(sim) });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/5 tasks → 5 videos, 25 seconds of video/);
    expect(res.stdout).toContain('nothing was sent');
    expect(sim.ledger().requests.log).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('--max-videos is a hard cap; the same command with a larger cap finishes the rest', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 5);
    const out = join(dir, 'out');
    const capped = await runCli(['run', manifest, '--out', out, '--max-videos', '3'], { env: cliEnv(sim) });
    expect(capped.code).toBe(1);
    expect(capped.stderr).toMatch(/2 task\(s\) parked/);
    expect(sim.ledger().submissions.accepted).toHaveLength(3);
    const report = await readReport(out);
    expect(report.tasks.filter((t) => t.stage === 'budget')).toHaveLength(2);
    const rest = await runCli(['run', manifest, '--out', out, '--max-videos', '5', '--quiet'], {
      env: cliEnv(sim),
    });
    expect(rest.code).toBe(0);
    expect(sim.ledger().submissions.accepted).toHaveLength(5);
  });

  it('--task-timeout reports a slow task stalled, keeping its taskId; a later run polls it to the end', async () => {
    const sim = await simulator({ timings: { runningMs: 4000, jitterRatio: 0 } });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 2);
    const out = join(dir, 'out');
    const first = await runCli(['run', manifest, '--out', out, '--task-timeout', '1s', '--quiet'], {
      env: cliEnv(sim),
    });
    expect(first.code).toBe(1);
    const stalled = await readReport(out);
    expect(stalled.tasks.map((t) => t.stage)).toEqual(['stalled', 'stalled']);
    expect(stalled.tasks.every((t) => t.taskId && t.status === 'pending')).toBe(true);
    const second = await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) });
    expect(second.code, second.stderr).toBe(0);
    expect(sim.ledger().submissions.accepted).toHaveLength(2);
    await checkAgainstLedger(sim, out);
  });

  it('--resubmit-unknown re-sends tasks whose submit outcome was lost, and discloses every send', async () => {
    const sim = await simulator({ faults: [{ kind: 'reset-after', endpoints: ['submit'], count: 2 }] });
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 4);
    const out = join(dir, 'out');
    const first = await runCli(['run', manifest, '--out', out], { env: cliEnv(sim) });
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('--resubmit-unknown');
    expect((await readReport(out)).totals.unknown).toBe(2);
    // Without the flag, the same command leaves them alone.
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) })).code).toBe(1);
    expect(sim.ledger().submissions.accepted).toHaveLength(4);
    const resent = await runCli(['run', manifest, '--out', out, '--quiet', '--resubmit-unknown'], {
      env: cliEnv(sim),
    });
    expect(resent.code, resent.stderr).toBe(0);
    const report = await readReport(out);
    expect(report.tasks.map((t) => t.submissions).sort()).toEqual([1, 1, 2, 2]);
    expect(sim.ledger().submissions.accepted).toHaveLength(6);
    await checkAgainstLedger(sim, out);
  });

  it('--retry-failed polls a failed task again, then re-sends it when the provider confirms the failure', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 3, {
      prompt: (i) => (i === 0 ? 'a flaky shot [sim:fail]' : `shot ${i}`),
    });
    const out = join(dir, 'out');
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) })).code).toBe(1);
    const before = await readReport(out);
    expect(before.tasks.find((t) => t.id === 'shot-001')?.error?.code).toBe('E_TASK_FAILED');
    // Without the flag: nothing happens to it.
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) })).code).toBe(1);
    sim.update({ failPattern: null });
    const retried = await runCli(['run', manifest, '--out', out, '--quiet', '--retry-failed'], {
      env: cliEnv(sim),
    });
    expect(retried.code, retried.stderr).toBe(0);
    const after = await readReport(out);
    const task = after.tasks.find((t) => t.id === 'shot-001')!;
    expect(task.status).toBe('succeeded');
    expect(task.submissions).toBe(2);
    expect(task.taskId).not.toBe(before.tasks.find((t) => t.id === 'shot-001')?.taskId);
    await checkAgainstLedger(sim, out);
  });

  it('names several videos <id>-<n>.mp4; an edited row is a new task beside the old one; removed rows are left alone', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 3, { row: (i) => ({ number_of_videos: i === 0 ? 2 : 1 }) });
    const out = join(dir, 'out');
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) })).code).toBe(0);
    expect((await readdir(join(out, 'videos'))).sort()).toEqual([
      'shot-001-1.mp4',
      'shot-001-2.mp4',
      'shot-002.mp4',
      'shot-003.mp4',
    ]);
    // Edit shot-002's prompt and drop shot-003.
    const csv = (await readFile(join(dir, 'tasks.csv'), 'utf8')).split('\n');
    csv[2] = csv[2]!.replace('Shot 2:', 'Shot 2 (edited):');
    await writeFile(join(dir, 'tasks.csv'), csv.filter((_, i) => i !== 3).join('\n'));
    const res = await runCli(['run', manifest, '--out', out, '--quiet', '--json'], { env: cliEnv(sim) });
    expect(res.code, res.stderr).toBe(0);
    const videos = await readdir(join(out, 'videos'));
    expect(videos).toContain('shot-002.mp4');
    expect(videos.filter((v) => /^shot-002~[0-9a-f]{8}\.mp4$/.test(v))).toHaveLength(1);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.run.removedTasks).toBe(2); // the old shot-002 and shot-003
    expect(sim.ledger().submissions.accepted).toHaveLength(4);
  });

  it('status and report read a run directory from its state alone', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 3);
    const out = join(dir, 'out');
    expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env: cliEnv(sim) })).code).toBe(0);
    const status = await runCli(['status', out, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      state: 'finished',
      totals: { tasks: 3, succeeded: 3 },
    });
    const human = await runCli(['status', out]);
    expect(human.stdout).toMatch(/succeeded: 3/);
    await writeFile(join(out, 'report.html'), 'stale');
    const report = await runCli(['report', out]);
    expect(report.code).toBe(0);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<!doctype html>');
    const notARun = await runCli(['status', dir]);
    expect(notARun.code).toBe(2);
    expect(notARun.stderr).toContain('not an flf2v run directory');
  });
});

describe('frames uploaded by an earlier run', () => {
  it('are uploaded again when the provider no longer knows their URLs, instead of failing the batch', async () => {
    const first = await simulator();
    const port = first.port;
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 3);
    const env = cliEnv(first);
    expect((await runCli(['run', manifest, '--out', join(dir, 'a'), '--quiet'], { env })).code).toBe(0);
    // The provider forgets its uploads (expired, deleted): a new simulator at the same address.
    await first.close();
    const second = await simulator({ port });
    const again = await runCli(['run', manifest, '--out', join(dir, 'b'), '--quiet'], { env });
    expect(again.code, again.stderr).toBe(0);
    const ledger = second.ledger();
    expect(ledger.submissions.accepted).toHaveLength(3);
    expect(Object.keys(ledger.uploads)).toHaveLength(4); // each frame uploaded once more, not once per task
    await checkAgainstLedger(second, join(dir, 'b'));
  });
});
