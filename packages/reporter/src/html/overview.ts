import { escapeHtml as e } from '../_escape.js';
import type { RunSummary, Totals } from '../types.js';
import { bytes, duration, int, percent } from './_format.js';
import type { Overview } from './_stats.js';

const OUTCOMES = ['succeeded', 'failed', 'unknown', 'pending'] as const;

/** The page header: job name, run state, where it came from, and a bar of outcomes so far. */
export function renderHeader(summary: RunSummary, o: Overview): string {
  const { run, totals } = summary;
  // Unknown tasks are not finished: their outcome is open until they are re-sent or found out.
  const done = totals.succeeded + totals.failed;
  const meta = [
    `<span title="manifest">${e(run.manifest)}</span>`,
    `<span title="run directory">${e(run.outDir)}</span>`,
    `<span>started ${time(run.startedAt)}</span>`,
    run.finishedAt
      ? `<span>${run.state === 'interrupted' ? 'interrupted' : 'finished'} ${time(run.finishedAt)}</span>`
      : '',
    run.state === 'running' ? `<span>updated ${time(run.updatedAt)}</span>` : '',
    `<span>flf2v ${e(run.toolVersion)}</span>`,
  ];
  const stopped = run.stoppedBy
    ? `<p class="note stopped" role="alert">Stopped by <code>${e(run.stoppedBy.code)}</code>: ${e(run.stoppedBy.message)}</p>`
    : '';
  const removed = run.removedTasks
    ? `<p class="note">${int(run.removedTasks)} task(s) from earlier runs of this directory are no longer in the manifest; they were left alone.</p>`
    : '';
  return `<header class="top">
<div class="title"><h1>${e(run.name)}</h1><span class="state state-${e(run.state)}">${e(run.state)}</span><span id="refresh"></span></div>
<p class="meta">${meta.filter(Boolean).join('')}</p>
<div class="progress" role="img" aria-label="${e(`${done} of ${totals.tasks} tasks finished`)}">${progressBar(totals)}</div>
<p class="progress-legend"><strong>${int(done)}</strong> of ${int(totals.tasks)} tasks finished${run.state === 'running' && o.wallMs !== undefined ? ` after ${duration(o.wallMs)}` : ''}${OUTCOMES.map((k) => (totals[k] ? ` <span class="dot ${k}"></span>${int(totals[k])} ${k}` : '')).join('')}</p>
${stopped}${removed}</header>`;
}

function progressBar(totals: Totals): string {
  if (totals.tasks === 0) return '';
  // SVG widths, not style attributes: the page's CSP allows no inline style attributes on server markup.
  let x = 0;
  const parts = OUTCOMES.map((k) => {
    const w = (100 * totals[k]) / totals.tasks;
    const rect =
      w > 0 ? `<rect class="${k}" x="${x.toFixed(3)}%" width="${w.toFixed(3)}%" height="100%"/>` : '';
    x += w;
    return rect;
  });
  return `<svg width="100%" height="100%" preserveAspectRatio="none" aria-hidden="true">${parts.join('')}</svg>`;
}

/** The summary cards: what was made, how long it took, what it cost in requests, under which limits. */
export function renderCards(summary: RunSummary, o: Overview): string {
  const { run, totals } = summary;
  const r = run.requests;
  const limits = [
    run.limits.submitRpm !== undefined ? `submit ${int(run.limits.submitRpm)}/min` : '',
    run.limits.queryRpm !== undefined ? `query ${int(run.limits.queryRpm)}/min` : '',
    run.limits.maxInFlight !== undefined ? `${int(run.limits.maxInFlight)} in flight` : '',
  ].filter(Boolean);
  const cards = [
    card(
      'Tasks',
      int(totals.tasks),
      `${int(totals.succeeded)} succeeded · ${int(totals.failed)} failed · ${int(totals.pending)} pending · ${int(totals.unknown)} unknown`,
    ),
    card(
      'Success rate',
      percent(totals.succeeded, o.settled),
      `${int(totals.succeeded)} of ${int(o.settled)} finished tasks`,
      totals.failed > 0 ? 'warn' : 'good',
    ),
    card(
      'Wall time',
      duration(o.wallMs),
      run.state === 'running' ? 'so far' : `started ${time(run.startedAt)}`,
    ),
    card('Videos', int(o.videos), o.videos ? `${bytes(o.videoBytes)} downloaded` : 'none yet'),
    card(
      'Seconds of video',
      int(o.videoSeconds),
      o.videoSeconds >= 60 ? `${duration(o.videoSeconds * 1000)} of footage` : 'of footage',
    ),
    card(
      'Generation time',
      duration(o.generation.p50),
      o.generation.count
        ? `median · p95 ${duration(o.generation.p95)} · submit → done`
        : 'no task completed yet',
    ),
    card(
      'Requests',
      int(o.requests),
      `upload ${int(r.upload)} · submit ${int(r.submit)} · status ${int(r.status)} · result ${int(r.result)} · download ${int(r.download)}`,
    ),
    card(
      'HTTP 429',
      int(run.rateLimited),
      o.requests ? `${percent(run.rateLimited, o.requests)} of requests` : 'rate-limited answers',
      run.rateLimited > 0 ? 'warn' : '',
    ),
    card(
      'Retries',
      int(run.retries),
      `${int(o.submissions)} submissions${o.resubmitted ? ` · ${int(o.resubmitted)} task(s) sent more than once` : ''}`,
      o.resubmitted ? 'warn' : '',
    ),
    card(
      'Limits',
      limits.length ? limits.join(' · ') : 'adaptive',
      limits.length ? 'as configured' : 'none given: adapting to 429s',
      'small',
    ),
  ];
  return `<section class="cards" aria-label="Summary">${cards.join('')}</section>`;
}

/** `subHtml` is markup: callers build it from numbers, fixed words and `time()`, never from user text. */
function card(label: string, value: string, subHtml: string, tone = ''): string {
  return `<div class="card${tone ? ` ${tone}` : ''}"><div class="label">${e(label)}</div><div class="value">${e(value)}</div><div class="sub">${subHtml}</div></div>`;
}

/** A time the page's script shows in the reader's time zone; the ISO text stays as the fallback. */
export function time(iso: string): string {
  return `<time datetime="${e(iso)}">${e(iso)}</time>`;
}
