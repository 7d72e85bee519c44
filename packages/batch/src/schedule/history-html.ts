import { formatDuration } from '../util/format.js';
import { escapeHtml } from './_html.js';
import type { FiringState, HistoryEntry, HistoryIndex } from './types.js';

/**
 * `index.html`: the run history as one self-contained page (no scripts, no external resources; opens offline).
 * Every value from the history is escaped; links are relative to the history root, so the page keeps working
 * when the whole directory is copied elsewhere.
 */

const STATE_LABEL: Record<FiringState, string> = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'some failed',
  interrupted: 'interrupted',
  error: 'error',
  invalid: 'invalid job',
  'up-to-date': 'nothing new',
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.4rem;margin:0 0 .25rem}
.meta{color:#5b6475;margin:0 0 1.25rem}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0001}
th,td{padding:.45rem .6rem;border-bottom:1px solid #e7eaf0;text-align:left;vertical-align:top}
th{font-weight:600;color:#5b6475;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.s{display:inline-block;white-space:nowrap;padding:.05rem .5rem;border-radius:1rem;font-size:.8rem;font-weight:600}
.s-succeeded{background:#e3f6e8;color:#17692f}.s-failed,.s-error,.s-invalid{background:#fde8e8;color:#9b1c1c}
.s-interrupted{background:#fff4d6;color:#7a5300}.s-running{background:#e5efff;color:#1a4fb4}
.s-up-to-date{background:#eef0f4;color:#4a5263}
.note{color:#5b6475;font-size:.85rem}
details summary{cursor:pointer}
pre{white-space:pre-wrap;margin:.3rem 0 0;font-size:.8rem}
a{color:#1a4fb4}
`;

function href(path: string): string {
  return escapeHtml(path.split('/').map(encodeURIComponent).join('/'));
}

function when(iso: string | undefined): string {
  return iso ? escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')) : '';
}

function num(n: number | undefined): string {
  return n === undefined ? '' : String(n);
}

function notes(entry: HistoryEntry): string {
  const out: string[] = [];
  if (entry.continued) out.push('continued the interrupted run in this directory');
  if (entry.full) out.push('--full: earlier runs ignored');
  if (entry.succeededBefore)
    out.push(`${entry.succeededBefore} of its tasks had succeeded in this directory before this firing`);
  if (entry.skippedFirings)
    out.push(`${entry.skippedFirings} later firing(s) skipped while this run was going`);
  if (entry.skipped?.heldEarlier)
    out.push(
      `${entry.skipped.heldEarlier} task(s) not re-sent: sent in an earlier run that has no outcome for them`,
    );
  let html = out.map((t) => `<div class="note">${escapeHtml(t)}</div>`).join('');
  if (entry.error) html += `<div>${escapeHtml(entry.error.message)} [${escapeHtml(entry.error.code)}]</div>`;
  if (entry.problems) {
    const p = entry.problems;
    const more = p.errors + p.warnings > p.messages.length ? '\n…' : '';
    html +=
      `<details><summary>${p.errors} error(s), ${p.warnings} warning(s): nothing sent</summary>` +
      `<pre>${escapeHtml(p.messages.join('\n') + more)}</pre></details>`;
  }
  return html;
}

function row(entry: HistoryEntry): string {
  const t = entry.totals;
  const report = entry.reports
    ? `<a href="${href(entry.reports.html)}">report</a> · <a href="${href(entry.reports.json)}">json</a>`
    : '';
  const dir = entry.runDir ? `<div class="note">${escapeHtml(entry.runDir)}</div>` : '';
  return (
    '<tr>' +
    `<td>${when(entry.firedAt)}<div class="note">${escapeHtml(entry.trigger)}</div></td>` +
    `<td><span class="s s-${escapeHtml(entry.state)}">${escapeHtml(STATE_LABEL[entry.state] ?? entry.state)}</span>` +
    `${entry.exitCode === undefined ? '' : `<div class="note">exit ${entry.exitCode}</div>`}</td>` +
    `<td class="n">${entry.durationMs === undefined ? '' : escapeHtml(formatDuration(entry.durationMs))}</td>` +
    `<td class="n">${num(t?.tasks)}</td><td class="n">${num(t?.succeeded)}</td>` +
    `<td class="n">${num(t?.failed)}</td><td class="n">${num(t && t.unknown + t.pending)}</td>` +
    `<td class="n">${num(entry.skipped?.succeededEarlier)}</td>` +
    `<td>${report}${dir}</td>` +
    `<td>${notes(entry)}</td>` +
    '</tr>'
  );
}

export function renderHistoryHtml(index: HistoryIndex): string {
  const runs = [...index.runs].reverse();
  const latest = runs.find((r) => r.reports);
  const running = runs.some((r) => r.state === 'running');
  const latestLink = latest?.reports
    ? ` · latest: <a href="${href(latest.reports.html)}">${escapeHtml(latest.runDir ?? '')}</a>`
    : '';
  const body =
    runs.length === 0
      ? '<p>No runs yet.</p>'
      : '<table><thead><tr><th>Fired</th><th>State</th><th>Duration</th><th>Tasks</th><th>Succeeded</th>' +
        '<th>Failed</th><th>Unknown / pending</th><th>Done earlier</th><th>Report</th><th>Notes</th></tr></thead>' +
        `<tbody>${runs.map(row).join('\n')}</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
${running ? '<meta http-equiv="refresh" content="30">\n' : ''}<title>${escapeHtml(index.job)} — run history</title>
<style>${CSS}</style></head>
<body>
<h1>${escapeHtml(index.job)} — run history</h1>
<p class="meta">${escapeHtml(index.jobFile)} · ${runs.length} firing(s) · updated ${when(index.updatedAt)}${latestLink}</p>
${body}
</body></html>
`;
}
