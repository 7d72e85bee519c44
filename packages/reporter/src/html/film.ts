import { escapeHtml as e } from '../_escape.js';
import type { FilmSummary } from '../types.js';
import { bytes, int } from './_format.js';

/** The storyboard's film, when one was made: a player, its facts, and its shots in order (links to them). */
export function renderFilm(film: FilmSummary | undefined): string {
  if (!film) return '';
  const how = film.method === 'copy' ? 'joined without re-encoding' : 're-encoded to the first shot’s format';
  const shots = film.shots
    .map(
      (s) =>
        `<li><a class="task-link" href="#${e(new URLSearchParams({ task: s.id }).toString())}">${e(s.id)}</a> <span class="muted">${seconds(s.duration)}</span></li>`,
    )
    .join('');
  return `<section id="film"><h2>Film <span class="count">${int(film.shots.length)} shot(s) · ${seconds(film.duration)} · ${bytes(film.bytes)} · ${how}</span></h2>
<video controls preload="metadata" src="${e(href(film.path))}" title="${e(film.path)}"></video>
<ol class="film-shots">${shots}</ol>
</section>`;
}

function seconds(s: number): string {
  return `${s.toFixed(1)} s`;
}

/** A run-relative path as a relative URL (each segment encoded: `#` or a space must not end or break it); an absolute one as file://. */
function href(path: string): string {
  const p = path.replace(/\\/g, '/');
  if (p.startsWith('/')) return `file://${p.split('/').map(encodeURIComponent).join('/')}`;
  if (/^[A-Za-z]:\//.test(p))
    return `file:///${p.slice(0, 2)}${p.slice(2).split('/').map(encodeURIComponent).join('/')}`;
  return p.split('/').map(encodeURIComponent).join('/');
}
