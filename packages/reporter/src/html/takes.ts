import { escapeHtml as e } from '../_escape.js';
import type { TaskSummary } from '../types.js';
import { fileHref, shotsWithTakes, taskHref } from './_ref.js';

/** Shots shown with their takes side by side; more are listed by name (each video is a player on the page). */
export const TAKES_SHOWN = 60;

/**
 * Shots that have several takes: each shot's takes side by side, each with its video (or its status), the chosen
 * one (the one the film uses) marked. Nothing when no shot has a second take.
 */
export function renderTakes(tasks: readonly TaskSummary[]): string {
  const shots = shotsWithTakes(tasks);
  if (shots.length === 0) return '';
  const shown = shots.slice(0, TAKES_SHOWN).map(renderShot).join('\n');
  const more =
    shots.length > TAKES_SHOWN
      ? `\n<p class="note">And ${shots.length - TAKES_SHOWN} more shots with takes: ${shots
          .slice(TAKES_SHOWN)
          .map((shot) => `<a class="task-link" href="${e(taskHref(shot[0]!))}">${e(shot[0]!.id)}</a>`)
          .join(', ')}.</p>`
      : '';
  return `<section id="takes"><h2>Takes <span class="count">${shots.length} shot(s) made more than once · the chosen take is the one the film uses; <code>flf2v choose DIR ID TAKE</code> picks another</span></h2>
${shown}${more}
</section>`;
}

function renderShot(shot: TaskSummary[]): string {
  const id = shot[0]!.id;
  return `<div class="shot" data-shot="${e(id)}"><h3>${e(id)}</h3><div class="takes">${shot.map(renderTake).join('')}</div></div>`;
}

function renderTake(t: TaskSummary): string {
  const take = t.take ?? 1;
  const chosen = t.chosen !== false;
  const video = t.videos[0];
  const poster =
    t.frames?.image && !/^https?:/i.test(t.frames.image) ? ` poster="${e(fileHref(t.frames.image))}"` : '';
  const player = video
    ? `<video controls preload="none"${poster} src="${e(fileHref(video.path))}" title="${e(video.path)}"></video>`
    : `<div class="no-video"><span class="badge ${e(t.status)}">${e(t.status)}</span>${t.stage && t.stage !== t.status ? ` ${e(t.stage)}` : ''}</div>`;
  const mark = chosen ? ' <span class="chosen-mark">chosen</span>' : '';
  return `<figure class="take${chosen ? ' chosen' : ''}" data-take="${take}">${player}<figcaption><a class="task-link" href="${e(taskHref(t))}">take ${take}</a>${mark}${video ? ` · <span class="badge ${e(t.status)}">${e(t.status)}</span>` : ''}</figcaption></figure>`;
}
