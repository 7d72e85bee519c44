import { describe, expect, it } from 'vitest';
import { renderHtml } from '../src/index.js';
import {
  bulkSummary,
  CHINESE_PROMPT,
  filmOf,
  HOSTILE_MESSAGE,
  realisticSummary,
  SCRIPT_PROMPT,
  withTakes,
} from './_summary.js';

function embedded(html: string, id: string): unknown {
  const m = new RegExp(`<script type="application/json" id="${id}">([^<]*)</script>`).exec(html);
  if (!m) throw new Error(`no #${id} in the page`);
  return JSON.parse(m[1]!);
}

describe('renderHtml', () => {
  const html = renderHtml(realisticSummary());

  it('is one self-contained page: nothing refers to the network', () => {
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).not.toMatch(/(src|href)="https?:/i);
    expect(html).toContain("default-src 'none'");
  });

  it('escapes user text in the overview and embeds the data so that it cannot close its element', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    const scripts = html.match(/<script\b/g) ?? [];
    expect(scripts).toHaveLength(3);
    const data = embedded(html, 'report-data') as { strings: string[] };
    expect(data.strings).toEqual(expect.arrayContaining([SCRIPT_PROMPT, CHINESE_PROMPT, HOSTILE_MESSAGE]));
    const raw = /id="report-data">([^<]*)<\/script>/.exec(html)![1]!;
    expect(raw).not.toMatch(/[<>&\u2028\u2029]/);
  });

  it('says what stopped a run, as escaped text', () => {
    const summary = realisticSummary('interrupted');
    summary.run.stoppedBy = { code: 'E_LOCAL_IO', message: HOSTILE_MESSAGE, retryable: false };
    const page = renderHtml(summary);
    expect(page).toMatch(/<p class="note stopped" role="alert">Stopped by <code>E_LOCAL_IO<\/code>: /);
    expect(page).not.toContain('<img src=x');
    expect(renderHtml(realisticSummary('interrupted'))).not.toContain('note stopped');
  });

  it('shows the film, when there is one, as a player and its shots in order', () => {
    const summary = realisticSummary();
    const film = filmOf(summary);
    const page = renderHtml({ ...summary, film });
    expect(page).toContain('<video controls preload="metadata" src="films/%3Cday%3E%20%231.mp4"');
    expect(page).not.toContain('<day>');
    const links = [...page.matchAll(/<ol class="film-shots">(.*?)<\/ol>/g)][0]![1]!.match(
      /href="#task=[^"]+"/g,
    );
    expect(links).toEqual(film.shots.map((s) => `href="#${new URLSearchParams({ task: s.id })}"`));
    expect(page).toContain('3 shot(s) · 15.0 s · 123 KB · joined without re-encoding');
    expect(html).not.toContain('id="film"');
  });

  it("shows a shot's takes side by side, the chosen one marked, and no section without takes", () => {
    const summary = withTakes(realisticSummary());
    const [first] = summary.tasks.filter((t) => t.take === 2);
    const page = renderHtml(summary);
    const section = /<section id="takes">(.*?)<\/section>/s.exec(page)![1]!;
    expect(section).toContain('2 shot(s) made more than once');
    const shots = [...section.matchAll(/<div class="shot" data-shot="([^"]*)">(.*?)<\/div><\/div>/gs)];
    expect(shots.map((m) => m[1])).toEqual([first!.id, '&lt;b&gt;shot&lt;/b&gt; #2']);
    expect(section).not.toContain('<b>');
    const figures = (html: string) =>
      [...html.matchAll(/<figure class="take( chosen)?" data-take="(\d)">(.*?)<\/figure>/gs)].map((m) => ({
        take: Number(m[2]),
        chosen: Boolean(m[1]),
        video: /<video controls preload="none"[^>]* src="([^"]+)"/.exec(m[3]!)?.[1],
        link: /href="([^"]+)"/.exec(m[3]!)![1],
      }));
    expect(figures(shots[0]![2]!)).toEqual([
      {
        take: 1,
        chosen: false,
        video: first!.videos[0]!.path.replace('~take2', ''),
        link: `#${new URLSearchParams({ task: first!.id })}`,
      },
      {
        take: 2,
        chosen: true,
        video: first!.videos[0]!.path,
        link: `#${new URLSearchParams({ task: `${first!.id}~take2` })}`,
      },
    ]);
    // A take still running shows its status where its video will be.
    expect(figures(shots[1]![2]!).map((f) => [f.take, f.chosen, f.video])).toEqual([
      [1, true, expect.any(String)],
      [2, false, undefined],
    ]);
    expect(shots[1]![2]).toContain('<span class="badge pending">pending</span> running');
    expect(shots[0]![2]).toContain('<span class="chosen-mark">chosen</span>');
    // The table tells a shot's takes apart.
    const data = embedded(page, 'report-data') as { fields: string[]; rows: unknown[][] };
    const col = (f: string) => data.fields.indexOf(f);
    const row = data.rows.at(-2)!;
    expect([row[col('ref')], row[col('take')], row[col('chosen')]]).toEqual([`${first!.id}~take2`, 2, 1]);
    expect(renderHtml(realisticSummary())).not.toContain('id="takes"');
  });

  it("says when the film was made before another take was chosen, and links each shot's take", () => {
    const summary = withTakes(realisticSummary());
    const film = filmOf(realisticSummary());
    const page = renderHtml({ ...summary, film });
    expect(page).toMatch(
      /<p class="note stale">Made before another take was chosen: [^<]+ \(take 1 in the film, take 2 chosen\)\./,
    );
    const chosen = summary.tasks.find((t) => t.take === 2 && t.chosen)!;
    const remade = {
      ...film,
      shots: film.shots.map((s) => (s.id === chosen.id ? { ...s, take: 2, key: chosen.key } : s)),
    };
    const again = renderHtml({ ...summary, film: remade });
    expect(again).not.toContain('note stale');
    expect(again).toContain(`href="#${new URLSearchParams({ task: `${chosen.id}~take2` })}">`);
    expect(again).toContain('<span class="take">take 2</span>');
  });

  it('reloads only while the run is going', () => {
    const cfg = (h: string) => embedded(h, 'report-config') as { refreshSeconds: number; pageSize: number };
    expect(cfg(html).refreshSeconds).toBe(0);
    expect(cfg(renderHtml(realisticSummary('running'))).refreshSeconds).toBe(10);
    expect(cfg(renderHtml(realisticSummary('running'), { refreshSeconds: 0 })).refreshSeconds).toBe(0);
    expect(cfg(renderHtml(realisticSummary('interrupted'), { refreshSeconds: 5 })).refreshSeconds).toBe(0);
  });

  it('checks its options where they enter', () => {
    expect(() => renderHtml(realisticSummary(), { pageSize: 0 })).toThrow(
      /Expected `pageSize` to be an integer >= 1, got 0/,
    );
    expect(() => renderHtml(realisticSummary(), { refreshSeconds: -1 })).toThrow(/refreshSeconds/);
  });

  it('draws one timeline bar per task for a small run and stacked areas for a large one', () => {
    expect(html.match(/<g class="bar"/g)).toHaveLength(30);
    const big = renderHtml(bulkSummary(1_000));
    expect(big).not.toContain('<g class="bar"');
    expect(big.match(/<path class="area /g)).toHaveLength(6);
  });

  it('renders a run with no tasks yet, and tasks with no times', () => {
    const empty = realisticSummary('running');
    empty.tasks = [];
    empty.totals = { tasks: 0, succeeded: 0, failed: 0, pending: 0, unknown: 0 };
    const page = renderHtml(empty);
    expect(page).toContain('No failed or unknown tasks.');
    expect(page).toContain('Nothing has started yet.');
    const planned = realisticSummary();
    for (const t of planned.tasks.slice(10)) t.timings = {};
    expect(renderHtml(planned)).toContain('20 task(s) have no recorded times yet.');
  });

  it('stays a few MB at 10,000 tasks', () => {
    const summary = bulkSummary(10_000);
    const started = performance.now();
    const page = renderHtml(summary);
    const ms = performance.now() - started;
    const bytes = Buffer.byteLength(page);
    // Not an assertion on time (see STYLE.md); the number is printed for the README.
    console.log(
      `report.html for 10,000 tasks: ${(bytes / 1e6).toFixed(2)} MB, rendered in ${ms.toFixed(0)} ms`,
    );
    expect(bytes).toBeLessThan(5_000_000);
  });
});
