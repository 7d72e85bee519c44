// report.html's DOM and formatting helpers: no page state, no network. The first part of the page's one script
// (src/html/script.ts joins the parts inside one function scope).

/** An element with properties/attributes and children (strings become text nodes). */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

function isRemote(p) {
  return /^https?:\/\//i.test(p);
}

/** A relative (or absolute) file path as a URL: each segment encoded, so `#`, `?`, `%` and spaces survive. */
function fileHref(p) {
  let s = String(p).replace(/\\/g, '/');
  let prefix = '';
  if (/^[A-Za-z]:\//.test(s)) {
    prefix = `file:///${s.slice(0, 2)}`;
    s = s.slice(2);
  }
  return prefix + s.split('/').map(encodeURIComponent).join('/');
}

function fmtInt(n) {
  return Number(n).toLocaleString('en-US');
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return ms < 10000 && ms % 1000 !== 0 ? `${(ms / 1000).toFixed(1)} s` : `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function fmtClock(ms) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `+${hh}:${mm.padStart(2, '0')}:${ss}` : `+${mm}:${ss}`;
}

function fmtBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function progressFill(pct) {
  const fill = h('i');
  fill.style.width = `${Math.max(0, Math.min(100, pct))}%`;
  return fill;
}

function localizeTimes() {
  for (const el of document.querySelectorAll('time[datetime]')) {
    const d = new Date(el.dateTime);
    if (!Number.isNaN(d.getTime())) {
      el.title = el.dateTime;
      el.textContent = d.toLocaleString();
    }
  }
}
