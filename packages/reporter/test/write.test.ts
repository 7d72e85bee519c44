import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunSummary, renderJson, writeReports } from '../src/index.js';
import { bulkSummary, realisticSummary } from './_summary.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flf2v-reporter-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeReports', () => {
  it('writes the three files, creating the directory, and leaves no temporary file', async () => {
    const out = join(dir, 'runs', 'spring');
    const summary = realisticSummary();
    const written = await writeReports(out, summary);
    expect(written).toEqual({
      json: join(out, 'report.json'),
      html: join(out, 'report.html'),
      junit: join(out, 'report.junit.xml'),
    });
    expect((await readdir(out)).sort()).toEqual(['report.html', 'report.json', 'report.junit.xml']);
    expect(await readFile(written.json, 'utf8')).toBe(renderJson(summary));
    expect(await readFile(written.html, 'utf8')).toMatch(/^<!doctype html>/);
    expect(await readFile(written.junit, 'utf8')).toMatch(/^<\?xml/);
  });

  it('never shows a reader a half-written file while refreshing', async () => {
    const summaries = [bulkSummary(3_000), realisticSummary('running'), bulkSummary(2_000)];
    await writeReports(dir, summaries[0]!);
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        const [json, html, xml] = await Promise.all([
          readFile(join(dir, 'report.json'), 'utf8'),
          readFile(join(dir, 'report.html'), 'utf8'),
          readFile(join(dir, 'report.junit.xml'), 'utf8'),
        ]);
        JSON.parse(json);
        expect(html.trimEnd().endsWith('</html>')).toBe(true);
        expect(xml.trimEnd().endsWith('</testsuites>')).toBe(true);
        reads += 1;
      }
    })();
    for (let i = 0; i < 15; i++) await writeReports(dir, summaries[i % summaries.length]!);
    reading = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('applies calls for one directory in order, so the last summary wins', async () => {
    const big = bulkSummary(5_000);
    const last = realisticSummary();
    // Not awaited in between: the big one is slower to render and write, and must not land last.
    await Promise.all([
      writeReports(dir, big),
      writeReports(dir, realisticSummary('running')),
      writeReports(dir, last),
    ]);
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunSummary;
    expect(json.run.state).toBe('finished');
    expect(json.tasks).toHaveLength(30);
  });

  it('fails cleanly, leaving no temporary file, when the directory cannot be written', async () => {
    const notADir = join(dir, 'file');
    await writeFile(notADir, 'x');
    await expect(writeReports(notADir, realisticSummary())).rejects.toThrow();
    await expect(writeReports(join(notADir, 'sub'), realisticSummary())).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['file']);
    // A failure does not block the next call for the same directory.
    await expect(writeReports(dir, realisticSummary())).resolves.toBeDefined();
  });
});
