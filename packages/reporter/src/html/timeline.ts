import { escapeHtml as e } from '../_escape.js';
import { ms } from '../_time.js';
import type { TaskSummary } from '../types.js';
import { clock, duration, int } from './_format.js';

/** Up to this many tasks the timeline draws one bar per task; past it, stacked counts over time. */
export const GANTT_MAX_TASKS = 150;

const WIDTH = 1000;
const AXIS = 22;
const BUCKETS = 120;

interface Span {
  /** Index into the summary's tasks, which is also the task's row in the page's data. */
  index: number;
  task: TaskSummary;
  q?: number;
  s?: number;
  c?: number;
  d?: number;
}

/**
 * The run over time as inline SVG, coloured by CSS classes so that it follows the page's light or dark theme.
 * `from`/`to` bound the run (ms since the epoch); open intervals of unfinished tasks end at `to`.
 */
export function renderTimeline(tasks: readonly TaskSummary[], from: number, to: number): string {
  const spans: Span[] = [];
  tasks.forEach((task, index) => {
    const t = task.timings;
    const span: Span = {
      index,
      task,
      q: ms(t.queuedAt),
      s: ms(t.submittedAt),
      c: ms(t.completedAt),
      d: ms(t.downloadedAt),
    };
    if (span.q !== undefined || span.s !== undefined || span.c !== undefined) spans.push(span);
  });
  const untimed = tasks.length - spans.length;
  const note = untimed ? `<p class="note">${int(untimed)} task(s) have no recorded times yet.</p>` : '';
  if (spans.length === 0)
    return `<section id="timeline"><h2>Timeline</h2><p class="empty">Nothing has started yet.</p></section>`;
  const range = Math.max(to - from, 1000);
  const gantt = spans.length <= GANTT_MAX_TASKS;
  const svg = gantt ? ganttSvg(spans, from, range) : areaSvg(spans, from, range);
  const legend = (gantt ? GANTT_LEGEND : AREA_LEGEND)
    .map(([cls, label]) => `<span><i class="sw ${cls}"></i>${label}</span>`)
    .join('');
  const caption = gantt
    ? 'one bar per task, by first submission; click a bar to open the task'
    : `tasks by stage over time (${int(spans.length)} tasks)`;
  return `<section id="timeline"><h2>Timeline <span class="count">${caption}</span></h2>${svg}<p class="legend">${legend}</p>${note}</section>`;
}

const GANTT_LEGEND = [
  ['wait', 'waiting to submit'],
  ['gen', 'generating'],
  ['dl', 'downloading'],
  ['gen failed', 'failed'],
  ['gen unknown', 'outcome unknown'],
  ['gen live', 'in progress'],
] as const;

const AREA_LEGEND = [
  ['done', 'succeeded'],
  ['failed', 'failed'],
  ['unknown', 'outcome unknown'],
  ['dl', 'downloading'],
  ['gen', 'generating'],
  ['wait', 'waiting to submit'],
] as const;

function ganttSvg(spans: Span[], from: number, range: number): string {
  const n = spans.length;
  const row = n <= 40 ? 14 : Math.max(4, Math.floor(560 / n));
  const labels = row >= 10;
  const left = labels ? 150 : 8;
  const plot = WIDTH - left - 12;
  const height = n * row + AXIS + 6;
  const x = (t: number) => (left + ((t - from) / range) * plot).toFixed(1);
  const end = from + range;
  spans.sort((a, b) => (a.s ?? a.q ?? a.c ?? 0) - (b.s ?? b.q ?? b.c ?? 0) || a.index - b.index);
  const rows = spans.map((sp, i) => {
    const y = 4 + i * row;
    const h = Math.max(2, row - 4);
    const { task } = sp;
    const live = task.status === 'pending';
    const bar = (cls: string, a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined || b < a
        ? ''
        : `<rect class="${cls}" x="${x(a)}" y="${y}" width="${Math.max(1.5, ((b - a) / range) * plot).toFixed(1)}" height="${h}"/>`;
    const genClass =
      task.status === 'failed'
        ? 'gen failed'
        : task.status === 'unknown'
          ? 'gen unknown'
          : live && sp.c === undefined
            ? 'gen live'
            : 'gen';
    const parts = [
      bar('wait', sp.q, sp.s ?? (live ? end : undefined)),
      bar(genClass, sp.s, sp.c ?? (task.status === 'succeeded' ? undefined : end)),
      bar('dl', sp.c, sp.d ?? (live ? end : undefined)),
    ];
    const title = `${task.id} — ${task.status}${task.stage ? ` (${task.stage})` : ''}${phase(' · waited', sp.q, sp.s)}${phase(' · generated in', sp.s, sp.c)}${phase(' · downloaded in', sp.c, sp.d)}${task.error ? ` · ${task.error.code}` : ''}`;
    const label = labels
      ? `<text class="label" x="${left - 6}" y="${y + h - 1}">${e(truncate(task.id, 22))}</text>`
      : '';
    return `<g class="bar" data-i="${sp.index}" tabindex="-1"><title>${e(title)}</title>${label}${parts.join('')}</g>`;
  });
  return svgFrame(height, axis(range, left, plot, n * row + 6, height), rows.join(''));
}

function areaSvg(spans: Span[], from: number, range: number): string {
  const height = 240;
  const top = 8;
  const plotH = height - AXIS - top;
  const layers = AREA_LEGEND.map(([cls]) => ({ cls, diff: new Float64Array(BUCKETS + 1) }));
  const [done, failed, unknown, dl, gen, wait] = layers;
  const bucket = (t: number) => Math.min(BUCKETS, Math.max(0, Math.floor(((t - from) / range) * BUCKETS)));
  const add = (layer: (typeof layers)[number] | undefined, a: number | undefined, b?: number) => {
    if (!layer || a === undefined) return;
    layer.diff[bucket(a)]! += 1;
    if (b !== undefined) layer.diff[bucket(Math.max(a, b))]! -= 1;
  };
  for (const sp of spans) {
    const status = sp.task.status;
    const last = sp.d ?? sp.c ?? sp.s ?? sp.q;
    add(wait, sp.q, sp.s ?? (status === 'pending' ? undefined : last));
    if (status === 'unknown') {
      add(unknown, sp.s ?? last);
      continue;
    }
    add(gen, sp.s, sp.c ?? (status === 'pending' ? undefined : last));
    add(dl, sp.c, sp.d ?? (status === 'pending' ? undefined : last));
    if (status === 'succeeded') add(done, last);
    if (status === 'failed') add(failed, last);
  }
  const step = (WIDTH - 12 - 48) / BUCKETS;
  const left = 48;
  const y = (count: number) => (top + plotH - (count / spans.length) * plotH).toFixed(1);
  const base = new Float64Array(BUCKETS);
  const paths = layers.map(({ cls, diff }) => {
    let running = 0;
    const lower: string[] = [];
    const upper: string[] = [];
    for (let k = 0; k < BUCKETS; k++) {
      running += diff[k]!;
      const xk = (left + (k + 0.5) * step).toFixed(1);
      lower.push(`${xk},${y(base[k]!)}`);
      base[k]! += running;
      upper.push(`${xk},${y(base[k]!)}`);
    }
    return `<path class="area ${cls}" d="M${upper.join('L')}L${lower.reverse().join('L')}Z"/>`;
  });
  const yAxis = [0, 0.5, 1]
    .map((f) => {
      const yy = (top + plotH - f * plotH).toFixed(1);
      return `<line class="grid" x1="${left}" x2="${WIDTH - 12}" y1="${yy}" y2="${yy}"/><text class="tick" x="${left - 6}" y="${yy}" dy="4" text-anchor="end">${int(f * spans.length)}</text>`;
    })
    .join('');
  return svgFrame(height, axis(range, left, WIDTH - 12 - left, top + plotH, height) + yAxis, paths.join(''));
}

function svgFrame(height: number, under: string, body: string): string {
  return `<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="Timeline of tasks">${under}${body}</svg>`;
}

function axis(range: number, left: number, plot: number, base: number, height: number): string {
  const step = tickStep(range);
  const ticks: string[] = [];
  for (let t = 0; t <= range + 1; t += step) {
    const xx = (left + (t / range) * plot).toFixed(1);
    ticks.push(
      `<line class="grid" x1="${xx}" x2="${xx}" y1="0" y2="${base}"/><text class="tick" x="${xx}" y="${height - 6}" text-anchor="middle">${clock(t)}</text>`,
    );
  }
  return ticks.join('');
}

/** A round tick interval giving at most about eight ticks. */
function tickStep(range: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  for (const s of steps) if (range / (s * 1000) <= 8) return s * 1000;
  return Math.ceil(range / 8 / 86_400_000) * 86_400_000;
}

function phase(label: string, a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b < a ? '' : `${label} ${duration(b - a)}`;
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
