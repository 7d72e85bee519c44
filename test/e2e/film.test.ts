import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watch } from '../../packages/reporter/test/_browser.js';
import { cliEnv, FRAMES, readReport, runCli, sha256File, tempDir, writeCsvJob } from './_helpers.js';
import { decodeErrors, durationOf, playAll } from './_media.js';

// The demo storyboard rehearsed on the embedded simulator (which renders real clips with ffmpeg), joined into
// a film by the real CLI, checked with ffprobe and played in Debian's Chromium.

let base: string;
let out: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'flf2v-e2e-film-'));
  out = join(base, 'day');
  const run = await runCli(['run', 'jobs/storyboard/day.yaml', '--simulator', '--out', out, '--quiet'], {
    env: cliEnv(undefined),
  });
  if (run.code !== 0) throw new Error(`the rehearsal failed (${run.code}): ${run.stderr}`);
}, 120_000);

afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe('flf2v film', () => {
  let film: string;

  beforeAll(async () => {
    const made = await runCli(['film', out], { env: cliEnv(undefined) });
    if (made.code !== 0) throw new Error(`flf2v film failed (${made.code}): ${made.stderr}`);
    film = made.stdout.trim();
  }, 120_000);

  it("joins the storyboard's shots in order: the film lasts as long as its clips together and decodes to the end", async () => {
    expect(film).toBe(join(out, 'film.mp4'));
    const clips = ['day-01', 'day-02', 'day-03', 'day-04'].map((id) => join(out, 'videos', `${id}.mp4`));
    const sum = clips.map(durationOf).reduce((a, b) => a + b, 0);
    // 5 + 6 + 5 + 8 s, as the storyboard asks.
    expect(sum).toBeCloseTo(24, 1);
    expect(durationOf(film)).toBeCloseTo(sum, 1);
    expect(decodeErrors(film)).toBe('');

    const record = JSON.parse(await readFile(join(out, 'film.json'), 'utf8'));
    expect(record).toMatchObject({
      schemaVersion: 1,
      path: 'film.mp4',
      method: 'copy',
      sha256: await sha256File(film),
      duration: expect.closeTo(24, 1),
    });
    expect(record.shots.map((s: { id: string; path: string }) => [s.id, s.path])).toEqual(
      ['day-01', 'day-02', 'day-03', 'day-04'].map((id) => [id, `videos/${id}.mp4`]),
    );
    // The reports show it; `flf2v report` keeps it.
    const rerendered = await runCli(['report', out], { env: cliEnv(undefined) });
    expect(rerendered.code, rerendered.stderr).toBe(0);
    const report = (await readReport(out)) as Awaited<ReturnType<typeof readReport>> & { film?: unknown };
    expect(report.film).toEqual((({ schemaVersion: _, ...rest }) => rest)(record));
  });

  it("plays the film and a shot's video in the report, in Chromium", async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      const watched = watch(page);
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      await page.waitForSelector('tr.row');
      expect((await playAll(page, '#film video'))[0]).toMatchObject({
        error: null,
        readyState: 4,
        advanced: expect.toSatisfy((s: number) => s > 0.5),
        size: [320, 180],
        duration: 24,
      });
      await page.click('tr.row[data-id="day-02"]');
      expect((await playAll(page, 'tr.detail video'))[0]).toMatchObject({
        error: null,
        advanced: expect.toSatisfy((s: number) => s > 0.5),
        size: [320, 180],
        duration: 6,
      });
      expect(watched.errors).toEqual([]);
      expect(watched.requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    } finally {
      await browser?.close();
    }
  });

  it('stops with exit 1 naming a shot whose video is gone, and keeps the film it made before', async () => {
    const copy = join(await tempDir(), 'day');
    await cp(out, copy, { recursive: true });
    await rename(join(copy, 'videos', 'day-03.mp4'), join(copy, 'day-03.mp4'));
    const before = await sha256File(join(copy, 'film.mp4'));
    const r = await runCli(['film', copy], { env: cliEnv(undefined) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`day-03: its video videos/day-03.mp4 is missing from ${copy}`);
    expect(r.stderr).toContain('[E_FILM_INCOMPLETE]');
    expect(await sha256File(join(copy, 'film.mp4'))).toBe(before);
    // The hint, followed as printed (a rehearsal's hint keeps --simulator), fetches the video again; the film
    // is made then.
    const hint = /Finish them with `flf2v (run [^`]+)`/.exec(r.stderr)?.[1];
    expect(hint).toBe(`run jobs/storyboard/day.yaml --out ${copy} --simulator`);
    const finished = await runCli([...hint!.split(' ')], { env: cliEnv(undefined) });
    expect(finished.code, finished.stderr).toBe(0);
    expect((await runCli(['film', copy], { env: cliEnv(undefined) })).code).toBe(0);
  });

  it('says how to install ffmpeg when it is not on PATH (exit 3)', async () => {
    const r = await runCli(['film', out, '--out', join(base, 'never.mp4')], {
      env: { ...cliEnv(undefined), PATH: await tempDir() },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /ffmpeg was not found on PATH\. Install ffmpeg .*apt-get install ffmpeg.*brew install ffmpeg/,
    );
    expect(r.stderr).toContain('[E_FFMPEG_MISSING]');
  });
});

describe('flf2v film of a storyboard with a failed shot', () => {
  it('stops with exit 1, naming the shot and why, and how to finish it', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'frames'));
    for (const f of ['dawn.png', 'noon.jpg', 'dusk.jpg']) await cp(join(FRAMES, f), join(dir, 'frames', f));
    await writeFile(
      join(dir, 'board.yaml'),
      [
        'version: 1',
        'name: board',
        'storyboard:',
        '  frames:',
        '    - { image: frames/dawn.png, prompt: The mist lifts }',
        '    - { image: frames/noon.jpg, prompt: "[sim:fail] the light turns" }',
        '    - frames/dusk.jpg',
        '',
      ].join('\n'),
    );
    const boardOut = join(dir, 'out');
    const run = await runCli(['run', join(dir, 'board.yaml'), '--simulator', '--out', boardOut, '--quiet'], {
      env: cliEnv(undefined),
    });
    expect(run.code, run.stderr).toBe(1);
    const r = await runCli(['film', boardOut], { env: cliEnv(undefined) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('1 of 2 have no video');
    expect(r.stderr).toMatch(/board-02: failed \(E_TASK_FAILED: .*simulated failure pattern\)/);
    expect(r.stderr).toContain('--retry-failed');
    expect(r.stderr).toContain(`--out ${boardOut} --simulator\``);
    expect(r.stdout).toBe('');
  });
});

describe('flf2v film of a run that is not a storyboard', () => {
  it('joins what chains, and warns that two shots share their frames', async () => {
    const dir = await tempDir();
    const manifest = await writeCsvJob(dir, 5);
    const bulk = join(dir, 'out');
    const run = await runCli(['run', manifest, '--simulator', '--out', bulk, '--quiet'], {
      env: cliEnv(undefined),
    });
    expect(run.code, run.stderr).toBe(0);
    const r = await runCli(['film', bulk], { env: cliEnv(undefined) });
    expect(r.stderr).toMatch(/warning: shot-00\d and shot-00\d both go from .* to .*: is .* a storyboard\?/);
  });
});
