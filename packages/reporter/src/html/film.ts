import { escapeHtml as e } from '../_escape.js';
import type { FilmSummary, TaskSummary } from '../types.js';
import { bytes, int } from './_format.js';
import { fileHref, taskHref } from './_ref.js';

/**
 * The storyboard's film, when one was made: a player, its facts, and its shots in order (links to them), with a
 * note when a shot's chosen take is no longer the one the film was made from.
 */
export function renderFilm(film: FilmSummary | undefined, tasks: readonly TaskSummary[]): string {
  if (!film) return '';
  const how = film.method === 'copy' ? 'joined without re-encoding' : 're-encoded to the first shot’s format';
  const shots = film.shots
    .map(
      (s) =>
        `<li><a class="task-link" href="${e(taskHref(s))}">${e(s.id)}</a>${(s.take ?? 1) > 1 ? ` <span class="take">take ${s.take}</span>` : ''} <span class="muted">${seconds(s.duration)}</span></li>`,
    )
    .join('');
  return `<section id="film"><h2>Film <span class="count">${int(film.shots.length)} shot(s) · ${seconds(film.duration)} · ${bytes(film.bytes)} · ${how}</span></h2>
<video controls preload="metadata" src="${e(fileHref(film.path))}" title="${e(film.path)}"></video>
<ol class="film-shots">${shots}</ol>${staleNote(film, tasks)}
</section>`;
}

/** Shots whose chosen take is another than the film's: the film is older than the choice. */
function staleNote(film: FilmSummary, tasks: readonly TaskSummary[]): string {
  const chosen = new Map<string, number>();
  for (const t of tasks) if (t.chosen !== false) chosen.set(t.id, t.take ?? 1);
  const stale = film.shots.filter((s) => chosen.has(s.id) && chosen.get(s.id) !== (s.take ?? 1));
  if (stale.length === 0) return '';
  const which = stale
    .map((s) => `${e(s.id)} (take ${s.take ?? 1} in the film, take ${chosen.get(s.id)} chosen)`)
    .join(', ');
  return `\n<p class="note stale">Made before another take was chosen: ${which}. <code>flf2v film</code> makes it again.</p>`;
}

function seconds(s: number): string {
  return `${s.toFixed(1)} s`;
}
