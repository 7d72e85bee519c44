import { escapeHtml as e } from '../_escape.js';
import type { TaskSummary } from '../types.js';
import { int } from './_format.js';

/** How many task links a group lists before it points at the table instead. */
const LISTED_TASKS = 12;
/** How many distinct messages a group shows. */
const LISTED_MESSAGES = 3;

export interface ErrorGroup {
  code: string;
  retryable: boolean | undefined;
  tasks: TaskSummary[];
  /** Distinct messages, most frequent first. */
  messages: { text: string; count: number }[];
}

/**
 * Failed and unknown tasks grouped by cause (the error code). Pending tasks are left out even when they carry
 * the last transient error: they are still being retried, and counting them here would overstate failures.
 */
export function groupErrors(tasks: readonly TaskSummary[]): ErrorGroup[] {
  const groups = new Map<
    string,
    { tasks: TaskSummary[]; messages: Map<string, number>; retryable: Set<boolean> }
  >();
  for (const task of tasks) {
    if (task.status !== 'failed' && task.status !== 'unknown') continue;
    const code = task.error?.code ?? (task.status === 'unknown' ? 'unknown outcome' : 'no error recorded');
    const message =
      task.error?.message ??
      (task.status === 'unknown'
        ? 'The submission may or may not have reached the provider; it is not re-sent without --resubmit-unknown.'
        : '');
    let group = groups.get(code);
    if (!group) {
      group = { tasks: [], messages: new Map(), retryable: new Set() };
      groups.set(code, group);
    }
    group.tasks.push(task);
    if (message) group.messages.set(message, (group.messages.get(message) ?? 0) + 1);
    if (task.error) group.retryable.add(task.error.retryable);
  }
  return [...groups]
    .map(([code, g]) => ({
      code,
      retryable: g.retryable.size === 1 ? [...g.retryable][0] : undefined,
      tasks: g.tasks,
      messages: [...g.messages].map(([text, count]) => ({ text, count })).sort((a, b) => b.count - a.count),
    }))
    .sort((a, b) => b.tasks.length - a.tasks.length || a.code.localeCompare(b.code));
}

export function renderErrors(tasks: readonly TaskSummary[]): string {
  const groups = groupErrors(tasks);
  const body = groups.length
    ? `<div class="groups">${groups.map(renderGroup).join('')}</div>`
    : '<p class="empty">No failed or unknown tasks.</p>';
  const affected = groups.reduce((n, g) => n + g.tasks.length, 0);
  const count = groups.length
    ? ` <span class="count">${int(affected)} task(s), ${int(groups.length)} cause(s)</span>`
    : '';
  return `<section id="errors"><h2>Errors by cause${count}</h2>${body}</section>`;
}

function renderGroup(g: ErrorGroup): string {
  const tag = g.retryable === true ? 'retryable' : g.retryable === false ? 'permanent' : '';
  const messages = g.messages
    .slice(0, LISTED_MESSAGES)
    .map(
      (m) =>
        `<li><span class="msg">${e(m.text)}</span>${g.messages.length > 1 ? ` <span class="times">×${int(m.count)}</span>` : ''}</li>`,
    );
  if (g.messages.length > LISTED_MESSAGES) {
    messages.push(`<li class="more">… and ${int(g.messages.length - LISTED_MESSAGES)} other message(s)</li>`);
  }
  const links = g.tasks
    .slice(0, LISTED_TASKS)
    .map((t) => `<a class="task-link" href="#${e(hash({ task: t.id }))}">${e(t.id)}</a>`);
  const statuses = new Set(g.tasks.map((t) => t.status));
  const status = statuses.size === 1 ? [...statuses][0]! : 'all';
  // Tasks without a recorded error are grouped under a made-up cause the table's search cannot find.
  const filter: Record<string, string> = g.tasks.some((t) => t.error?.code === g.code)
    ? { status, q: g.code }
    : { status };
  const all = `<a class="show-all" href="#${e(hash(filter))}">${
    g.tasks.length > LISTED_TASKS ? `all ${int(g.tasks.length)} in the table →` : 'show in the table →'
  }</a>`;
  return `<div class="error-group${g.tasks.every((t) => t.status === 'unknown') ? ' unknown' : ''}">
<div class="error-head"><code class="code">${e(g.code)}</code>${tag ? `<span class="tag ${tag}">${tag}</span>` : ''}<span class="n">${int(g.tasks.length)} task(s)</span></div>
${messages.length ? `<ul class="messages">${messages.join('')}</ul>` : ''}
<div class="affected">${links.join('')}${all}</div>
</div>`;
}

/** A fragment the page's script reads as its state (the same form it writes). */
function hash(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}
