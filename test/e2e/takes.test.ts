import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watch } from '../../packages/reporter/test/_browser.js';
import {
  checkAgainstLedger,
  cliEnv,
  readReport,
  runCli,
  sha256File,
  simulator,
  spawnCli,
  tempDir,
  waitFor,
} from './_helpers.js';
import { decodeErrors, durationOf, playAll } from './_media.js';

// Takes of the demo storyboard: `--retake` against the simulator's ledger (what was sent, how often), killed and
// resumed; `flf2v choose`; the film of the chosen takes, checked with ffprobe; the takes played in Chromium.

const DEMO = 'jobs/demo/demo.yaml';

/** How many records of kind `t` the run's journal holds. */
function journaled(out: string, t: string): number {
  const journal = join(out, 'state', 'journal.jsonl');
  return existsSync(journal) ? readFileSync(journal, 'utf8').split(`"t":"${t}"`).length - 1 : 0;
}

const takesOf = async (out: string, id: string) =>
  (await readReport(out)).tasks
    .filter((t) => t.id === id)
    .map((t) => ({
      take: t.take,
      status: t.status,
      chosen: t.chosen,
      submissions: t.submissions,
      videos: t.videos.map((v) => v.path),
    }));

describe('flf2v run --retake', () => {
  it('sends only that shot again, once, with the same request; the plain command adds nothing; a finished take lets --retake start the next', async () => {
    const sim = await simulator();
    const dir = await tempDir();
    const out = join(dir, 'demo');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache') });
    const run = (...more: string[]) => runCli(['run', DEMO, '--out', out, ...more], { env });
    const accepted = () => sim.ledger().submissions.accepted;
    const bodyOf = (taskId: string | undefined) => accepted().find((s) => s.taskId === taskId)?.bodyHash;

    expect((await run('--quiet')).code).toBe(0);
    expect(accepted()).toHaveLength(3);
    const first = (await readReport(out)).tasks.find((t) => t.id === 'noon-to-dusk')!;

    const retake = await run('--retake', 'noon-to-dusk');
    expect(retake.code, retake.stderr).toBe(0);
    expect(retake.stderr).toContain('noon-to-dusk: take 2 was started');
    expect(accepted()).toHaveLength(4);
    expect(await takesOf(out, 'noon-to-dusk')).toEqual([
      { take: 1, status: 'succeeded', chosen: true, submissions: 1, videos: ['videos/noon-to-dusk.mp4'] },
      {
        take: 2,
        status: 'succeeded',
        chosen: false,
        submissions: 1,
        videos: ['videos/noon-to-dusk~take2.mp4'],
      },
    ]);
    const take2 = (await readReport(out)).tasks.find((t) => t.id === 'noon-to-dusk' && t.take === 2)!;
    expect(accepted()[3]!.taskId).toBe(take2.taskId);
    // The take is not sent: the provider got the first take's request again.
    expect(bodyOf(take2.taskId)).toBe(bodyOf(first.taskId));
    expect(take2.key).not.toBe(first.key);
    await checkAgainstLedger(sim, out);

    // The plain command: nothing is sent, and the take belongs to the run (it is no removed row).
    const plain = await run();
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('no longer in the manifest');
    expect(accepted()).toHaveLength(4);
    expect((await readReport(out)).totals).toMatchObject({ tasks: 4, succeeded: 4 });

    // Take 2 has finished: asking again makes take 3 (one more submission, of that shot).
    const third = await run('--retake', 'noon-to-dusk');
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain('noon-to-dusk: take 3 was started');
    expect(accepted()).toHaveLength(5);
    expect(accepted()[4]!.bodyHash).toBe(bodyOf(first.taskId));
    expect((await takesOf(out, 'noon-to-dusk')).map((t) => [t.take, t.status, t.videos])).toEqual([
      [1, 'succeeded', ['videos/noon-to-dusk.mp4']],
      [2, 'succeeded', ['videos/noon-to-dusk~take2.mp4']],
      [3, 'succeeded', ['videos/noon-to-dusk~take3.mp4']],
    ]);
    await checkAgainstLedger(sim, out);
  });

  it('killed (-9) while the take runs: the same command continues that take and pays for no other', async () => {
    const sim = await simulator({ timings: { pendingMs: 0, runningMs: 3000, jitterRatio: 0 } });
    const dir = await tempDir();
    const out = join(dir, 'demo');
    const env = cliEnv(sim, { FLF2V_CACHE_DIR: join(dir, 'cache') });
    const args = ['run', DEMO, '--out', out, '--retake', 'dusk-to-night'];
    expect((await runCli(['run', DEMO, '--out', out, '--quiet'], { env })).code).toBe(0);
    const accepted = () => sim.ledger().submissions.accepted;
    expect(accepted()).toHaveLength(3);

    const killed = spawnCli([...args, '--quiet'], { env });
    // Killed once the take's submit is journaled whole, while the provider still generates it.
    await waitFor(() => journaled(out, 'submitted') >= 4, 60_000);
    killed.kill('SIGKILL');
    await killed.result;
    expect(journaled(out, 'downloaded')).toBe(3);
    expect(accepted()).toHaveLength(4);

    const resumed = await runCli(args, { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(
      'dusk-to-night: take 2 has not finished (submitted): it was continued, not started again',
    );
    expect(accepted()).toHaveLength(4);
    expect(await takesOf(out, 'dusk-to-night')).toEqual([
      { take: 1, status: 'succeeded', chosen: true, submissions: 1, videos: ['videos/dusk-to-night.mp4'] },
      {
        take: 2,
        status: 'succeeded',
        chosen: false,
        submissions: 1,
        videos: ['videos/dusk-to-night~take2.mp4'],
      },
    ]);
    await checkAgainstLedger(sim, out);
  });

  it('refuses an id the manifest does not have, before anything is sent (exit 2)', async () => {
    const dir = await tempDir();
    const out = join(dir, 'demo');
    const r = await runCli(['run', DEMO, '--simulator', '--out', out, '--retake', 'noon-to-dsk'], {
      env: cliEnv(undefined),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--retake noon-to-dsk: expected the id of a task in the manifest, got "noon-to-dsk" (did you mean "noon-to-dusk"?)',
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('flf2v choose, and the film of the chosen takes', () => {
  let base: string;
  let out: string;
  const env = () => cliEnv(undefined);

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'flf2v-e2e-takes-'));
    out = join(base, 'demo');
    for (const args of [
      ['run', DEMO, '--simulator', '--out', out, '--quiet'],
      ['run', DEMO, '--simulator', '--out', out, '--quiet', '--retake', 'noon-to-dusk'],
      ['choose', out, 'noon-to-dusk', '2'],
      ['film', out],
    ]) {
      const r = await runCli(args, { env: env() });
      if (r.code !== 0) throw new Error(`${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    }
  }, 180_000);

  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('records the choice in the run state and shows it in report.json', async () => {
    const report = await readReport(out);
    expect(report.tasks.map((t) => [t.id, t.take, t.chosen])).toEqual([
      ['dawn-to-noon', 1, true],
      ['noon-to-dusk', 1, false],
      ['dusk-to-night', 1, true],
      ['noon-to-dusk', 2, true],
    ]);
    const journal = await readFile(join(out, 'state', 'journal.jsonl'), 'utf8');
    expect(journal).toMatch(/"t":"chosen","id":"noon-to-dusk","take":2,/);
    // Choosing it again records nothing more.
    const again = await runCli(['choose', out, 'noon-to-dusk', '2'], { env: env() });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('noon-to-dusk: take 2 was already chosen');
    expect(journaled(out, 'chosen')).toBe(1);
  });

  it('joins the chosen takes: the film lasts as long as those clips together and decodes to the end', async () => {
    const record = JSON.parse(await readFile(join(out, 'film.json'), 'utf8'));
    const clips = ['videos/dawn-to-noon.mp4', 'videos/noon-to-dusk~take2.mp4', 'videos/dusk-to-night.mp4'];
    expect(
      record.shots.map((s: { id: string; take?: number; path: string }) => [s.id, s.take, s.path]),
    ).toEqual([
      ['dawn-to-noon', undefined, clips[0]],
      ['noon-to-dusk', 2, clips[1]],
      ['dusk-to-night', undefined, clips[2]],
    ]);
    const film = join(out, 'film.mp4');
    const sum = clips.map((c) => durationOf(join(out, c))).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(15, 1);
    expect(durationOf(film)).toBeCloseTo(sum, 1);
    expect(decodeErrors(film)).toBe('');
    expect(record.sha256).toBe(await sha256File(film));
  });

  it('keeps the film in the reports of a later run, which sends nothing', async () => {
    const intents = journaled(out, 'intent');
    const r = await runCli(['run', DEMO, '--simulator', '--out', out, '--quiet'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(await readFile(join(out, 'film.json'), 'utf8'));
    const report = (await readReport(out)) as Awaited<ReturnType<typeof readReport>> & { film?: unknown };
    expect(report.film).toEqual((({ schemaVersion: _, ...rest }) => rest)(record));
    expect(report.totals).toMatchObject({ tasks: 4, succeeded: 4 });
    expect(journaled(out, 'intent')).toBe(intents);
  });

  it('plays the takes side by side in the report, in Chromium, the chosen one marked', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      const watched = watch(page);
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      await page.waitForSelector('tr.row');
      const shot = '#takes .shot[data-shot="noon-to-dusk"]';
      expect(
        await page.$$eval(`${shot} figure`, (fs) =>
          fs.map((f) => [f.getAttribute('data-take'), f.className]),
        ),
      ).toEqual([
        ['1', 'take'],
        ['2', 'take chosen'],
      ]);
      const played = (await playAll(page, `${shot} video`)).map((p) => ({
        ...p,
        advanced: p.advanced > 0.5,
      }));
      expect(played).toEqual(
        Array(2).fill({ error: null, readyState: 4, advanced: true, size: [320, 180], duration: 5 }),
      );
      // In the table, each take opens on its own.
      await page.click('tr.row[data-id="noon-to-dusk~take2"]');
      expect(
        await page.$$eval('tr.detail', (rows) => rows.map((r) => r.getAttribute('data-detail'))),
      ).toEqual(['noon-to-dusk~take2']);
      expect(await page.textContent('tr.detail')).toContain('take 2 of the shot');
      expect(watched.errors).toEqual([]);
      expect(watched.requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    } finally {
      await browser?.close();
    }
  });

  it('is refused while a run holds the directory, and for a take the shot does not have', async () => {
    const copy = join(await tempDir(), 'demo');
    await cp(out, copy, { recursive: true });
    const config = join(copy, '..', 'slow.yaml');
    await writeFile(config, 'timings:\n  pendingMs: 0\n  runningMs: 30000\n  jitterRatio: 0\n');
    const holder = spawnCli(
      ['run', DEMO, '--simulator-config', config, '--out', copy, '--quiet', '--retake', 'dawn-to-noon'],
      {
        env: env(),
      },
    );
    await waitFor(() => existsSync(join(copy, 'state', 'lock.json')), 60_000);
    const locked = await runCli(['choose', copy, 'noon-to-dusk', '1'], { env: env() });
    expect(locked.code).toBe(2);
    expect(locked.stderr).toContain('[E_LOCKED]');
    holder.kill('SIGKILL');
    await holder.result;

    const missing = await runCli(['choose', out, 'noon-to-dusk', '5'], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `noon-to-dusk has takes 1, 2 in ${out}, not take 5: make one with flf2v run MANIFEST --retake noon-to-dusk [E_USAGE]`,
    );
    expect((await readReport(out)).tasks.find((t) => t.id === 'noon-to-dusk' && t.take === 2)!.chosen).toBe(
      true,
    );
  });
});
