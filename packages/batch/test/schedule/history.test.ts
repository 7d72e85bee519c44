import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { History } from '../../src/schedule/history.js';
import { renderHistoryHtml } from '../../src/schedule/history-html.js';
import type { HistoryEntry, HistoryIndex } from '../../src/schedule/types.js';
import { tempDir } from './_helpers.js';

const JOB = { name: 'nightly', file: '/jobs/nightly.yaml' };

function entry(id: string, extra: Partial<HistoryEntry> = {}): HistoryEntry {
  return { id, trigger: 'schedule', firedAt: '2026-02-02T02:00:00.000Z', state: 'succeeded', ...extra };
}

describe('run history (index.json / index.html)', () => {
  it('starts empty, saves a versioned index and reads it back', async () => {
    const root = await tempDir();
    const { history, notes } = await History.open(root, JOB);
    expect(notes).toEqual([]);
    expect(history.runs).toEqual([]);
    history.add(
      entry('2026-02-02_020000', {
        runDir: '2026-02-02_020000',
        totals: { tasks: 2, succeeded: 2, failed: 0, unknown: 0, pending: 0 },
      }),
    );
    await history.save();
    const json = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as HistoryIndex;
    expect(json).toMatchObject({ schemaVersion: 1, job: 'nightly', jobFile: '/jobs/nightly.yaml' });
    expect(json.runs).toHaveLength(1);
    const again = await History.open(root, JOB);
    expect(again.history.runs).toEqual(json.runs);
    expect(again.history.lastRun()?.id).toBe('2026-02-02_020000');
  });

  it('gives each firing a unique id', async () => {
    const { history } = await History.open(await tempDir(), JOB);
    history.add(entry(history.newId('2026-02-02_020000')));
    history.add(entry(history.newId('2026-02-02_020000')));
    history.add(entry(history.newId('2026-02-02_020000')));
    expect(history.runs.map((r) => r.id)).toEqual([
      '2026-02-02_020000',
      '2026-02-02_020000-2',
      '2026-02-02_020000-3',
    ]);
  });

  it('marks runs left "running" by a scheduler that died as interrupted', async () => {
    const root = await tempDir();
    const { history } = await History.open(root, JOB);
    history.add(entry('a', { state: 'running', runDir: 'a' }));
    await history.save();
    const again = await History.open(root, JOB);
    expect(again.history.runs[0]).toMatchObject({ state: 'interrupted', exitCode: 130 });
    expect(again.notes.join()).toMatch(/run a was left running/);
  });

  it('moves a damaged index aside instead of failing or losing it', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'index.json'), '{"schemaVersion":1,"runs":[{"id"');
    const { history, notes } = await History.open(root, JOB);
    expect(history.runs).toEqual([]);
    expect(notes[0]).toMatch(/not a readable run history; moved it to .*index\.json\.damaged-/);
    expect((await readdir(root)).some((f) => f.startsWith('index.json.damaged-'))).toBe(true);
  });

  it('refuses an index written by a newer flf2v', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'index.json'), JSON.stringify({ schemaVersion: 2, runs: [] }));
    await expect(History.open(root, JOB)).rejects.toMatchObject({ code: 'E_STATE' });
  });

  it('never writes the secret it was given, in either file', async () => {
    const root = await tempDir();
    const secret = 'sk-secret-0123456789';
    const { history } = await History.open(root, JOB, { secrets: [secret] });
    history.add(entry('a', { state: 'error', error: { code: 'E_X', message: `oops ${secret}` } }));
    await history.save();
    for (const f of ['index.json', 'index.html']) {
      const text = await readFile(join(root, f), 'utf8');
      expect(text).not.toContain(secret);
      expect(text).toContain('[REDACTED]');
    }
  });

  it('renders a self-contained page: escaped values, relative links, newest first', () => {
    const html = renderHistoryHtml({
      schemaVersion: 1,
      job: '<b>night</b>',
      jobFile: '/jobs/"x".yaml',
      updatedAt: '2026-02-03T02:00:00.000Z',
      runs: [
        entry('old', {
          firedAt: '2026-02-01T02:00:00.000Z',
          runDir: '2026-02-01 night',
          reports: { json: '2026-02-01 night/report.json', html: '2026-02-01 night/report.html', junit: 'x' },
          totals: { tasks: 3, succeeded: 3, failed: 0, unknown: 0, pending: 0 },
          durationMs: 65_000,
          skippedFirings: 2,
        }),
        entry('new', {
          firedAt: '2026-02-02T02:00:00.000Z',
          state: 'invalid',
          exitCode: 2,
          problems: { errors: 1, warnings: 0, messages: ['error: q.csv row 3: <script>alert(1)</script>'] },
        }),
      ],
    });
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(html).toContain('&lt;b&gt;night&lt;/b&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('href="2026-02-01%20night/report.html"');
    expect(html).toContain('1m05s');
    expect(html).toContain('2 later firing(s) skipped');
    const rows = html.slice(html.indexOf('<tbody>'));
    expect(rows.indexOf('invalid job')).toBeLessThan(rows.indexOf('2026-02-01%20night'));
  });

  it('asks the browser to refresh only while a run is going', () => {
    const base = { schemaVersion: 1 as const, job: 'j', jobFile: 'f', updatedAt: '2026-02-02T00:00:00Z' };
    expect(renderHistoryHtml({ ...base, runs: [entry('a', { state: 'running' })] })).toContain(
      'http-equiv="refresh"',
    );
    expect(renderHistoryHtml({ ...base, runs: [entry('a')] })).not.toContain('http-equiv');
    expect(renderHistoryHtml({ ...base, runs: [] })).toContain('No runs yet');
  });
});
