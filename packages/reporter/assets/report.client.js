// The task table of report.html, built from the JSON embedded in the page. Every piece of user text goes in
// through textContent or a DOM property, never innerHTML. No network: images and videos are relative files.
// The last part of the page's one script: src/html/script.ts joins report.dom.js, report.refresh.js and this
// file inside one function scope, so the helpers of the first two are in scope here.

const config = readJson('report-config');
const data = readJson('report-data');
const STATUSES = ['all', 'succeeded', 'failed', 'pending', 'unknown'];
const SORTS = {
  index: null,
  id: (t) => t.id,
  status: (t) => STATUSES.indexOf(t.status),
  attempts: (t) => t.attempts,
  submissions: (t) => t.submissions,
  gen: (t) => t.gen,
  total: (t) => t.total,
  videos: (t) => t.nVideos,
  submitted: (t) => t.submitted,
};
const COLUMNS = [
  { label: 'Frames' },
  { label: 'Task', sort: 'id' },
  { label: 'Status', sort: 'status' },
  { label: 'Prompt' },
  { label: 'Attempts', sort: 'attempts', num: true, title: 'provider calls for this task, retries included' },
  { label: 'Sent', sort: 'submissions', num: true, title: 'times the task was submitted' },
  { label: 'Generation', sort: 'gen', num: true, title: 'submitted → completed' },
  { label: 'Total', sort: 'total', num: true, title: 'submitted → downloaded' },
  { label: 'Videos', sort: 'videos', num: true },
  { label: 'Submitted', sort: 'submitted', num: true, title: 'time after the start of the run' },
];

const tasks = hydrate(data);
const byRef = new Map(tasks.map((t) => [t.ref, t]));
// Shots made more than once: their rows say which take each is, and which one is chosen.
const takesOf = new Map();
for (const t of tasks) takesOf.set(t.id, (takesOf.get(t.id) || new Set()).add(t.take));
const counts = { all: tasks.length, succeeded: 0, failed: 0, pending: 0, unknown: 0 };
for (const t of tasks) counts[t.status] += 1;

const state = { status: 'all', q: '', sort: 'index', desc: false, page: 1, open: null, hold: false };
let cached = { key: '', list: tasks };

const app = document.getElementById('task-app');
const ui = buildShell();
readHash();
render();
if (state.open) reveal(state.open);
localizeTimes();
wireTimeline();
startRefresh(config.refreshSeconds, ui.search, {
  held: () => state.hold,
  toggle: () => {
    state.hold = !state.hold;
    writeHash();
  },
});
window.addEventListener('hashchange', () => {
  readHash();
  if (state.open) reveal(state.open);
  else {
    render();
    document.getElementById('tasks').scrollIntoView({ block: 'start' });
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === '/' && document.activeElement !== ui.search) {
    event.preventDefault();
    ui.search.focus();
  }
});

function readJson(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

function hydrate(d) {
  const interned = new Set(d.interned);
  return d.rows.map((row, index) => {
    const t = { index };
    d.fields.forEach((field, i) => {
      const v = row[i];
      t[field] = interned.has(field) && v !== null ? d.strings[v] : v;
    });
    t.gen = t.submitted !== null && t.completed !== null ? t.completed - t.submitted : null;
    const start = t.submitted ?? t.queued;
    const end = t.downloaded ?? t.completed;
    t.total = start !== null && end !== null && end >= start ? end - start : null;
    t.nVideos = t.videos ? t.videos.length : 0;
    t.haystack = [t.ref, t.key, t.taskId, t.stage, t.prompt, t.negativePrompt, t.errorCode, t.errorMessage, t.image, t.lastImage]
      .filter((s) => s)
      .join('\n')
      .toLowerCase();
    return t;
  });
}

function fmtTime(offset) {
  return offset === null || offset === undefined ? '–' : new Date(data.t0 + offset).toLocaleString();
}

// ---- state in the URL fragment, so a reload (auto-refresh) keeps the view ------------------------------

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.status = STATUSES.includes(p.get('status')) ? p.get('status') : 'all';
  state.q = p.get('q') || '';
  state.sort = Object.hasOwn(SORTS, p.get('sort')) ? p.get('sort') : 'index';
  state.desc = p.get('dir') === 'desc';
  state.page = Math.max(1, Number.parseInt(p.get('page'), 10) || 1);
  state.open = p.get('task');
  state.hold = p.get('hold') === '1';
  ui.search.value = state.q;
}

function writeHash() {
  const p = new URLSearchParams();
  if (state.status !== 'all') p.set('status', state.status);
  if (state.q) p.set('q', state.q);
  if (state.sort !== 'index') p.set('sort', state.sort);
  if (state.desc) p.set('dir', 'desc');
  if (state.page > 1) p.set('page', String(state.page));
  if (state.open) p.set('task', state.open);
  if (state.hold) p.set('hold', '1');
  const s = p.toString();
  history.replaceState(null, '', s ? `#${s}` : location.pathname + location.search);
}

// ---- the filtered, sorted list -------------------------------------------------------------------------

function view() {
  const key = `${state.status}\u0000${state.q}\u0000${state.sort}\u0000${state.desc}`;
  if (cached.key === key) return cached.list;
  const terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
  let list = tasks.filter(
    (t) => (state.status === 'all' || t.status === state.status) && terms.every((term) => t.haystack.includes(term)),
  );
  const get = SORTS[state.sort];
  if (get) {
    const dir = state.desc ? -1 : 1;
    list = list
      .map((t) => ({ t, v: get(t) }))
      .sort((a, b) => {
        // Missing values (not yet submitted, …) go last whichever the direction.
        if (a.v === null || b.v === null) return a.v === b.v ? a.t.index - b.t.index : a.v === null ? 1 : -1;
        const c = typeof a.v === 'string' ? a.v.localeCompare(b.v, undefined, { numeric: true }) : a.v - b.v;
        return c * dir || a.t.index - b.t.index;
      })
      .map((x) => x.t);
  } else if (state.desc) {
    list = list.slice().reverse();
  }
  cached = { key, list };
  return list;
}

// ---- rendering ----------------------------------------------------------------------------------------

function buildShell() {
  const chips = STATUSES.map((s) =>
    h('button', { type: 'button', 'data-status': s, onclick: () => setFilter({ status: s }) }, s === 'all' ? 'All' : s[0].toUpperCase() + s.slice(1), h('span', { class: 'n' })),
  );
  let timer = 0;
  const search = h('input', {
    class: 'search',
    type: 'search',
    placeholder: 'Search id, prompt, error, provider task id…  ( / )',
    'aria-label': 'Search tasks',
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(() => setFilter({ q: search.value }), tasks.length > 2000 ? 150 : 0);
    },
  });
  const shown = h('span', { class: 'shown', 'aria-live': 'polite' });
  const heads = COLUMNS.map((c) =>
    h(
      'th',
      { class: c.num ? 'num' : null, title: c.title, scope: 'col' },
      c.sort ? h('button', { type: 'button', onclick: () => toggleSort(c.sort) }, c.label) : c.label,
    ),
  );
  const tbody = h('tbody');
  const table = h('table', { class: 'tasks' }, h('thead', null, h('tr', null, heads)), tbody);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  app.replaceChildren(h('div', { class: 'toolbar' }, h('div', { class: 'chips', role: 'group', 'aria-label': 'Status' }, chips), search, shown), h('div', { class: 'table-wrap' }, table), pager);
  return { chips, search, shown, heads, tbody, pager };
}

function setFilter(change) {
  Object.assign(state, change, { page: 1 });
  render();
}

function toggleSort(key) {
  if (state.sort === key) state.desc = !state.desc;
  else {
    state.sort = key;
    state.desc = false;
  }
  state.page = 1;
  render();
}

function render() {
  const list = view();
  const pages = Math.max(1, Math.ceil(list.length / config.pageSize));
  state.page = Math.min(state.page, pages);
  const first = (state.page - 1) * config.pageSize;
  const slice = list.slice(first, first + config.pageSize);

  for (const chip of ui.chips) {
    const s = chip.dataset.status;
    chip.setAttribute('aria-pressed', String(s === state.status));
    chip.lastChild.textContent = fmtInt(counts[s]);
  }
  COLUMNS.forEach((c, i) => {
    const sorted = c.sort && c.sort === state.sort;
    if (sorted) ui.heads[i].setAttribute('aria-sort', state.desc ? 'descending' : 'ascending');
    else ui.heads[i].removeAttribute('aria-sort');
  });
  const filtered = list.length !== tasks.length ? ` (filtered from ${fmtInt(tasks.length)})` : '';
  ui.shown.textContent = list.length
    ? `${fmtInt(first + 1)}–${fmtInt(first + slice.length)} of ${fmtInt(list.length)} tasks${filtered}`
    : tasks.length
      ? `No task matches${filtered}`
      : 'No tasks yet';

  const rows = [];
  for (const t of slice) {
    const open = state.open === t.ref;
    rows.push(taskRow(t, open));
    if (open) rows.push(detailRow(t));
  }
  if (!slice.length) rows.push(h('tr', null, h('td', { colSpan: COLUMNS.length, class: 'empty' }, 'No tasks to show.')));
  ui.tbody.replaceChildren(...rows);
  renderPager(pages);
  writeHash();
}

function renderPager(pages) {
  const go = (page) => () => {
    state.page = page;
    render();
    ui.search.closest('section').scrollIntoView({ block: 'start' });
  };
  const p = state.page;
  ui.pager.replaceChildren(
    h('button', { type: 'button', 'aria-label': 'First page', disabled: p <= 1, onclick: go(1) }, '«'),
    h('button', { type: 'button', 'aria-label': 'Previous page', disabled: p <= 1, onclick: go(p - 1) }, '‹ Prev'),
    h('span', { class: 'where' }, `Page ${fmtInt(p)} of ${fmtInt(pages)}`),
    h('button', { type: 'button', 'aria-label': 'Next page', disabled: p >= pages, onclick: go(p + 1) }, 'Next ›'),
    h('button', { type: 'button', 'aria-label': 'Last page', disabled: p >= pages, onclick: go(pages) }, '»'),
  );
}

function thumb(path) {
  if (!path) return h('span', { class: 'ph' }, '–');
  if (isRemote(path)) return h('span', { class: 'ph', title: path }, 'URL');
  const img = h('img', { src: fileHref(path), alt: '', loading: 'lazy', decoding: 'async', title: path });
  img.addEventListener('error', () => img.replaceWith(h('span', { class: 'ph', title: `missing: ${path}` }, '?')));
  return img;
}

function taskRow(t, open) {
  const toggle = () => {
    state.open = state.open === t.ref ? null : t.ref;
    render();
  };
  const status = h('td', null, h('span', { class: `badge ${t.status}` }, t.status));
  if (t.errorCode) status.append(h('span', { class: 'err-code' }, t.errorCode));
  else if (t.stage && t.stage !== 'done') status.append(h('span', { class: 'stage' }, t.progress !== null && t.status === 'pending' ? `${t.stage} · ${t.progress}%` : t.stage));
  return h(
    'tr',
    {
      class: open ? 'row open' : 'row',
      'data-id': t.ref,
      tabindex: 0,
      'aria-expanded': String(open),
      onclick: toggle,
      onkeydown: (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          toggle();
        }
      },
    },
    h('td', null, h('div', { class: 'thumbs' }, thumb(t.frame), h('span', { class: 'arrow' }, '→'), thumb(t.lastFrame))),
    h('td', null, h('div', { class: 'id' }, t.id, takeMark(t)), h('div', { class: 'key', title: t.key }, t.key.slice(0, 12))),
    status,
    h('td', null, h('div', { class: 'prompt', title: t.prompt }, t.prompt)),
    h('td', { class: 'num' }, fmtInt(t.attempts)),
    h('td', { class: 'num' }, t.submissions > 1 ? h('span', { class: 'warn-n', title: 'submitted more than once' }, fmtInt(t.submissions)) : fmtInt(t.submissions)),
    h('td', { class: 'num' }, fmtDuration(t.gen)),
    h('td', { class: 'num' }, fmtDuration(t.total)),
    h('td', { class: 'num' }, t.nVideos ? fmtInt(t.nVideos) : '–'),
    h('td', { class: 'num', title: fmtTime(t.submitted) }, fmtClock(t.submitted)),
  );
}

function frameFigure(label, path, named) {
  const caption = h('figcaption', null, `${label}: ${named}`);
  if (!path) return h('figure', null, h('div', { class: 'remote' }, 'no thumbnail'), caption);
  if (isRemote(path)) {
    return h('figure', null, h('div', { class: 'remote' }, h('a', { href: path, target: '_blank', rel: 'noopener noreferrer' }, path)), caption);
  }
  const img = h('img', { src: fileHref(path), alt: `${label} frame of ${named}`, loading: 'lazy' });
  img.addEventListener('error', () => img.replaceWith(h('div', { class: 'remote' }, `missing: ${path}`)));
  return h('figure', null, img, caption);
}

function fact(label, ...value) {
  return [h('dt', null, label), h('dd', null, ...value)];
}

function detailRow(t) {
  const facts = [
    fact('Status', h('span', { class: `badge ${t.status}` }, t.status), t.stage ? ` ${t.stage}` : ''),
    t.status === 'pending' && t.progress !== null
      ? fact('Progress', h('span', { class: 'bar-progress' }, progressFill(t.progress)), `${t.progress}%`)
      : [],
    fact('Prompt', h('div', { class: 'prompt-full' }, t.prompt || '–')),
    t.negativePrompt ? fact('Negative prompt', h('div', { class: 'prompt-full' }, t.negativePrompt)) : [],
    fact('Request', `${t.model} · ${t.resolution} · ${t.duration} s · ${t.count} video(s)${t.expand === 1 ? ' · prompt expansion on' : ''}`),
    takesOf.get(t.id).size > 1 ? fact('Take', `take ${t.take} of the shot's ${takesOf.get(t.id).size}`, t.chosen ? ' · chosen: the film uses it' : '') : [],
    fact('Provider task', h('code', null, t.taskId || '–')),
    fact('Key', h('code', null, t.key)),
    fact('Attempts', `${fmtInt(t.attempts)} provider call(s) · submitted ${fmtInt(t.submissions)} time(s)`),
    fact('Queued', fmtTime(t.queued)),
    fact('Submitted', fmtTime(t.submitted), t.submitted !== null && t.queued !== null ? ` · waited ${fmtDuration(t.submitted - t.queued)}` : ''),
    fact('Completed', fmtTime(t.completed), t.gen !== null ? ` · generated in ${fmtDuration(t.gen)}` : ''),
    fact('Downloaded', fmtTime(t.downloaded), t.downloaded !== null && t.completed !== null ? ` · in ${fmtDuration(t.downloaded - t.completed)}` : ''),
  ].flat();
  const error = t.errorCode
    ? h('div', { class: 'error-box', role: 'note' }, h('code', null, t.errorCode), t.errorMessage || '', t.retryable === 1 ? ' (retryable)' : t.retryable === 0 ? ' (permanent)' : '')
    : null;
  const poster = t.frame && !isRemote(t.frame) ? fileHref(t.frame) : null;
  const videos = (t.videos || []).map(([path, bytes]) =>
    h(
      'figure',
      null,
      h('video', { controls: true, preload: 'none', src: fileHref(path), poster }),
      h('figcaption', null, h('a', { href: fileHref(path) }, path), ` · ${fmtBytes(bytes)}`),
    ),
  );
  const grid = h(
    'div',
    { class: 'detail-grid' },
    h('div', { class: 'frames' }, frameFigure('First', t.frame, t.image), frameFigure('Last', t.lastFrame, t.lastImage)),
    h('div', null, error, h('dl', { class: 'facts' }, facts)),
    videos.length ? h('div', { class: 'videos' }, videos) : null,
  );
  return h('tr', { class: 'detail', 'data-detail': t.ref }, h('td', { colSpan: COLUMNS.length }, grid));
}

/** ` take 2 · chosen` beside the id of a shot made more than once. */
function takeMark(t) {
  if (takesOf.get(t.id).size < 2 && t.take === 1) return null;
  return h('span', { class: 'take' }, ` take ${t.take}`, t.chosen ? h('span', { class: 'chosen-mark' }, ' · chosen') : null);
}

/** Shows one task: clears a filter that hides it, turns to its page, opens it and scrolls to it. */
function reveal(ref) {
  const t = byRef.get(ref);
  if (!t) {
    state.open = null;
    render();
    return;
  }
  let list = view();
  let at = list.indexOf(t);
  if (at < 0) {
    state.status = 'all';
    state.q = '';
    ui.search.value = '';
    list = view();
    at = list.indexOf(t);
  }
  state.open = ref;
  state.page = Math.floor(at / config.pageSize) + 1;
  render();
  const row = ui.tbody.querySelector('tr.row.open');
  if (row) row.scrollIntoView({ block: 'center' });
}

function wireTimeline() {
  const svg = document.querySelector('svg.timeline');
  if (!svg) return;
  svg.addEventListener('click', (event) => {
    const bar = event.target.closest('.bar');
    const t = bar && tasks[Number(bar.dataset.i)];
    if (t) reveal(t.ref);
  });
}
