/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (DOM types for the callbacks that playwright runs inside the page.)
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../src/index.js';
import { launchChromium, REPO, type Watched, watch, writeRunDir } from './_browser.js';
import { bulkSummary, CHINESE_PROMPT, HOSTILE_MESSAGE, realisticSummary, SCRIPT_PROMPT } from './_summary.js';

// End to end: report.html opened from a real run directory over file:// in Debian's Chromium.

let browser: Browser;
let dir: string;
const pages: { page: Page; watched: Watched }[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  dir = await mkdtemp(join(tmpdir(), 'flf2v-report-html-'));
}, 60_000);

afterAll(async () => {
  // Every page opened here must have stayed clean, whatever it was used for.
  try {
    for (const { watched } of pages) {
      expect(watched.errors).toEqual([]);
      expect(watched.dialogs).toEqual([]);
      expect(watched.requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    }
  } finally {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}, 60_000);

async function open(
  htmlPath: string,
  hash = '',
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; watched: Watched }> {
  const page = await browser.newPage({ viewport });
  const watched = watch(page);
  pages.push({ page, watched });
  await page.goto(pathToFileURL(htmlPath).href + hash);
  await page.waitForSelector('tr.row');
  return { page, watched };
}

/** Thumbnails load lazily; load them all now so that a missing one would show (and be in the screenshot). */
async function loadAllImages(page: Page): Promise<void> {
  await page.$$eval('img', (imgs) => {
    for (const img of imgs) (img as HTMLImageElement).loading = 'eager';
  });
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
}

const rowIds = (page: Page) =>
  page.$$eval('tr.row', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
const shown = (page: Page) => page.textContent('.shown');

async function allIdsThroughPages(page: Page): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    ids.push(...(await rowIds(page)));
    const next = page.locator('button[aria-label="Next page"]');
    if (await next.isDisabled()) return ids;
    const before = await page.textContent('.pager .where');
    await next.click();
    await expect.poll(() => page.textContent('.pager .where')).not.toBe(before);
  }
}

describe('report.html in Chromium', { timeout: 60_000 }, () => {
  const summary = realisticSummary();
  let html: string;

  beforeAll(async () => {
    html = await writeRunDir(join(dir, 'spring'), summary);
  }, 60_000);

  it('opens offline with every task, without errors, and saves a screenshot', async () => {
    const { page, watched } = await open(html);
    expect(await rowIds(page)).toEqual(summary.tasks.map((t) => t.id));
    expect(await page.textContent('h1')).toBe('spring-campaign');
    expect(await page.$$eval('svg.timeline .bar', (bars) => bars.length)).toBe(30);
    await loadAllImages(page);
    expect(
      await page.$$eval('img', (imgs) => imgs.filter((i) => i.naturalWidth === 0).map((i) => i.src)),
    ).toEqual([]);
    await mkdir(join(REPO, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-artifacts/report.png'), fullPage: true });
    expect(watched.errors).toEqual([]);
  });

  it('reaches every task through pagination', async () => {
    const small = join(dir, 'spring', 'paged.html');
    await writeFile(small, renderHtml(summary, { pageSize: 8 }));
    const { page } = await open(small);
    expect(await rowIds(page)).toHaveLength(8);
    expect(await allIdsThroughPages(page)).toEqual(summary.tasks.map((t) => t.id));
    expect(await page.textContent('.pager .where')).toBe('Page 4 of 4');
  });

  it('filters by status and searches text', async () => {
    const { page } = await open(html);
    const idsWith = (status: string) => summary.tasks.filter((t) => t.status === status).map((t) => t.id);
    for (const status of ['failed', 'pending', 'unknown', 'succeeded']) {
      await page.click(`.chips button[data-status="${status}"]`);
      expect(await rowIds(page)).toEqual(idsWith(status));
      expect(await page.$$eval('tr.row .badge', (b) => [...new Set(b.map((x) => x.textContent))])).toEqual([
        status,
      ]);
    }
    await page.click('.chips button[data-status="all"]');
    await page.fill('input.search', '橘猫');
    await expect.poll(() => rowIds(page)).toEqual(['shot-04']);
    await page.fill('input.search', 'e_moderation');
    await expect.poll(() => rowIds(page)).toEqual(['shot-08', 'shot-11']);
    await page.click('.chips button[data-status="succeeded"]');
    expect(await rowIds(page)).toEqual([]);
    expect(await shown(page)).toContain('No task matches');
    await page.fill('input.search', '');
    await expect.poll(() => rowIds(page)).toEqual(idsWith('succeeded'));
  });

  it('sorts by a column, both ways', async () => {
    const { page } = await open(html);
    await page.click('th button:text-is("Attempts")');
    const attempts = (ids: string[]) => ids.map((id) => summary.tasks.find((t) => t.id === id)!.attempts);
    const up = attempts(await rowIds(page));
    expect(up).toEqual([...up].sort((a, b) => a - b));
    await page.click('th button:text-is("Attempts")');
    const down = attempts(await rowIds(page));
    expect(down).toEqual([...up].sort((a, b) => b - a));
    expect(await page.getAttribute('th:has(button:text-is("Attempts"))', 'aria-sort')).toBe('descending');
  });

  it('shows a <script> prompt and hostile error text as inert text', async () => {
    const { page, watched } = await open(html);
    await page.fill('input.search', 'alert(1)');
    await expect.poll(() => rowIds(page)).toEqual(['shot-08']);
    expect(await page.textContent('tr.row .prompt')).toBe(SCRIPT_PROMPT);
    await page.click('tr.row');
    expect(await page.textContent('tr.detail .prompt-full')).toBe(SCRIPT_PROMPT);
    expect(await page.$$eval('script', (s) => s.length)).toBe(3);
    expect(await page.$$eval('img', (imgs) => imgs.filter((i) => i.getAttribute('src') === 'x').length)).toBe(
      0,
    );
    expect(await page.locator('.messages .msg').allTextContents()).toContain(HOSTILE_MESSAGE);
    await page.fill('input.search', CHINESE_PROMPT.slice(0, 4));
    await expect.poll(() => page.textContent('tr.row .prompt')).toBe(CHINESE_PROMPT);
    expect(watched.dialogs).toEqual([]);
  });

  it('points every <video> at a file that exists, and plays one', async () => {
    const { page } = await open(html);
    const withVideos = summary.tasks.filter((t) => t.videos.length > 0);
    expect(withVideos.some((t) => t.videos.length === 3)).toBe(true);
    for (const task of withVideos) {
      await page.click(`tr.row[data-id="${task.id}"]`);
      const videos = await page.$$eval('tr.detail video', (vs) =>
        vs.map((v) => ({
          src: (v as HTMLVideoElement).src,
          preload: v.getAttribute('preload'),
          controls: (v as HTMLVideoElement).controls,
        })),
      );
      expect(videos.map((v) => fileURLToPath(v.src))).toEqual(
        task.videos.map((v) => join(dir, 'spring', v.path)),
      );
      for (const v of videos) {
        expect(existsSync(fileURLToPath(v.src))).toBe(true);
        expect(v).toMatchObject({ preload: 'none', controls: true });
      }
    }
    // The page's own relative URL for `park bench #2` (space and #) must decode to the real file and play.
    await page.click('tr.row[data-id="park bench #2"]');
    const size = await page.$eval('tr.detail video', async (v) => {
      const video = v as HTMLVideoElement;
      video.preload = 'auto';
      const ready = new Promise((resolve, reject) => {
        video.addEventListener('loadeddata', resolve, { once: true });
        video.addEventListener('error', () => reject(new Error(`video error ${video.error?.code}`)), {
          once: true,
        });
      });
      video.load();
      await ready;
      return [video.videoWidth, video.videoHeight];
    });
    expect(size).toEqual([320, 180]);
  });

  it('shows frame thumbnails from files and remote frames as links, not images', async () => {
    const { page } = await open(html);
    await page.click('tr.row[data-id="shot-01"]');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('tr.detail img')].every((i) => (i as HTMLImageElement).complete),
    );
    const frames = await page.$$eval('tr.detail .frames img', (imgs) =>
      imgs.map((i) => [(i as HTMLImageElement).naturalWidth, i.getAttribute('src')]),
    );
    expect(frames).toEqual([
      [320, 'frames/dawn.png'],
      [320, 'frames/noon.jpg'],
    ]);
    await page.click('tr.row[data-id="shot-20"]');
    expect(await page.$$eval('tr.detail .frames a', (as) => as.map((a) => a.getAttribute('href')))).toEqual([
      'https://cdn.example.com/frames/portrait.jpg',
      'https://cdn.example.com/frames/dawn.png',
    ]);
    expect(await page.$$eval('img[src^="http"]', (imgs) => imgs.length)).toBe(0);
  });

  it('links errors and timeline bars to their tasks', async () => {
    const { page } = await open(html);
    await page.click('.error-group a.task-link:text-is("shot-14")');
    await expect.poll(() => page.getAttribute('tr.row.open', 'data-id')).toBe('shot-14');
    expect(await page.textContent('tr.detail .error-box')).toContain(HOSTILE_MESSAGE);
    await page.click('.error-group:has(code:text-is("E_MODERATION")) a.show-all');
    await expect.poll(() => rowIds(page)).toEqual(['shot-08', 'shot-11']);
    await page.click('svg.timeline .bar[data-i="0"] rect');
    await expect.poll(() => page.getAttribute('tr.row.open', 'data-id')).toBe('shot-01');
    expect(await page.$$eval('tr.row', (r) => r.length)).toBe(30);
  });

  it('keeps the view across the auto-refresh of a running report', async () => {
    // Beside report.html, so that its thumbnails and videos resolve the same way.
    const page = join(dir, 'spring', 'running.html');
    await writeFile(page, renderHtml(realisticSummary('running'), { refreshSeconds: 1 }));
    const { page: p } = await open(page);
    expect(await p.textContent('.state')).toBe('running');
    await p.click('.chips button[data-status="failed"]');
    await p.waitForEvent('load');
    await p.waitForSelector('tr.row');
    expect(await p.getAttribute('.chips button[data-status="failed"]', 'aria-pressed')).toBe('true');
    expect(await rowIds(p)).toHaveLength(4);
    await p.click('#refresh button');
    expect(await p.textContent('#refresh')).toContain('paused');
  });

  it.runIf(process.env.FLF2V_UPDATE_SCREENSHOT === '1')('updates docs/report.png', async () => {
    const { page } = await open(html, '#task=park%20bench%20%232', { width: 1280, height: 800 });
    await loadAllImages(page);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('video')].every((v) => v.networkState === v.NETWORK_IDLE),
    );
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(REPO, 'docs/report.png'), fullPage: true });
  });
});

describe('report.html with 10,000 tasks', { timeout: 60_000 }, () => {
  const summary = bulkSummary(10_000);
  let html: string;

  beforeAll(async () => {
    const out = join(dir, 'bulk');
    // Thumbnails only: the page loads no video until a task is opened and played.
    await mkdir(out);
    html = await writeRunDir(out, { ...summary, tasks: summary.tasks.map((t) => ({ ...t, videos: [] })) });
  }, 60_000);

  it('shows 100 rows a page and reaches the last task', async () => {
    const { page } = await open(html);
    expect(await rowIds(page)).toEqual(summary.tasks.slice(0, 100).map((t) => t.id));
    expect(await page.textContent('.pager .where')).toBe('Page 1 of 100');
    await page.click('button[aria-label="Last page"]');
    expect((await rowIds(page)).at(-1)).toBe('bulk-10000');
    await page.fill('input.search', 'bulk-05000');
    await expect.poll(() => rowIds(page)).toEqual(['bulk-05000']);
    await page.fill('input.search', '');
    await page.click('.chips button[data-status="pending"]');
    await expect.poll(() => shown(page)).toContain(`of ${summary.totals.pending} tasks`);
    await page.click('th button:text-is("Task")');
    await page.click('th button:text-is("Task")');
    expect((await rowIds(page))[0]).toBe('bulk-10000');
    expect(await page.$$eval('svg.timeline path.area', (p) => p.length)).toBe(6);
  });
});
