import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type RunSummary, writeReports } from '../src/index.js';
import { FRAME_FILES } from './_summary.js';

export const CHROMIUM = '/usr/bin/chromium';
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLIP = fileURLToPath(new URL('./fixtures/clip.mp4', import.meta.url));

/** Debian's Chromium, never a browser download. Missing is a failure with instructions, not a skip. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing. The HTML report's browser test drives Debian's Chromium through playwright-core ` +
        '(it never downloads a browser). CI installs it: .ci/run does `apt-get install chromium`; ' +
        'on a developer machine run `sudo apt-get install chromium`.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A run directory as flf2v leaves it: frames the summary points at, a real small MP4 for every video, and
 * the three reports.
 */
export async function writeRunDir(dir: string, summary: RunSummary): Promise<string> {
  await mkdir(join(dir, 'frames'), { recursive: true });
  for (const f of FRAME_FILES) await copyFile(join(REPO, 'jobs/frames', f), join(dir, 'frames', f));
  for (const task of summary.tasks) {
    for (const video of task.videos) {
      await mkdir(dirname(join(dir, video.path)), { recursive: true });
      await copyFile(CLIP, join(dir, video.path));
    }
  }
  return (await writeReports(dir, summary)).html;
}

export interface Watched {
  errors: string[];
  dialogs: string[];
  requests: string[];
}

/** Records console errors, page errors, dialogs (dismissed) and every request the page makes. */
export function watch(page: Page): Watched {
  const w: Watched = { errors: [], dialogs: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => w.errors.push(`page: ${e.message}`));
  page.on('dialog', (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => w.requests.push(r.url()));
  return w;
}
