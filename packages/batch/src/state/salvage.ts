import type { JournalRecord } from './records.js';

/** The record a salvage adds: the task may or may not have been sent. */
export type SuspectRecord = Extract<JournalRecord, { t: 'unknown' }>;

import type { RunState } from './run-state.js';

/**
 * What `--salvage-state` must not forget about the lines it passes over. A damaged line may have been a task's
 * intent to submit: if nothing else in the journal shows that task was sent, it would look never sent and be
 * sent again — paid twice. So every damaged line that may be an intent (its type is not plainly another one)
 * and still names a task (its key, exactly or with a character or two damaged) makes that task `unknown`, as a
 * cut submit does: reported, and re-sent only with `--resubmit-unknown`.
 *
 * Returns the records to append (an `unknown` per such task that shows nothing sent); `at` is their time.
 */
export function suspectIntents(
  journal: Buffer,
  skipped: ReadonlyArray<readonly [number, number]>,
  state: RunState,
  at: string,
): SuspectRecord[] {
  const out: SuspectRecord[] = [];
  const done = new Set<string>();
  for (const [start, end] of skipped) {
    const text = journal.toString('utf8', start, end);
    const type = /"t":"([a-z_]+)"/.exec(text)?.[1];
    if (type !== undefined && NOT_AN_INTENT.has(type)) continue;
    const named = /"key":"([^"]{1,200})"/.exec(text)?.[1];
    if (named === undefined) continue;
    const key = resolveKey(named, state);
    if (key === undefined || done.has(key)) continue;
    const task = state.tasks.get(key);
    // Sent for sure (a task id, an answer, a later intent): the journal already says what is known.
    if (task && (task.taskId || task.phase !== 'planned' || task.sent.length + task.pending.length > 0))
      continue;
    done.add(key);
    out.push({
      t: 'unknown',
      key,
      n: (task?.lastN ?? 0) + 1,
      at,
      error: {
        code: 'E_SUBMIT_UNKNOWN',
        message:
          'a damaged line of the state journal may have been this task’s intent to submit: the provider may or may not have it',
        retryable: false,
      },
    });
  }
  return out;
}

/** Keyed record types a damaged line still plainly shows it was: then it was no intent (a damaged type may be). */
const NOT_AN_INTENT = new Set([
  'planned',
  'submitted',
  'not_created',
  'unknown',
  'completed',
  'downloaded',
  'failed',
  'stalled',
  'reopened',
  'video_missing',
]);

/** The task key a damaged line names: exact, or the one known key within two characters of it. */
function resolveKey(named: string, state: RunState): string | undefined {
  if (state.tasks.has(named)) return named;
  const near = [...state.tasks.keys()].filter((k) => k.length === named.length && distance(k, named) <= 2);
  if (near.length === 1) return near[0];
  // A key no known task has (its `planned` line was damaged too): kept as it reads, if it reads as a key.
  return near.length === 0 && /^[0-9a-f]{64}$/.test(named) ? named : undefined;
}

function distance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length && d <= 2; i++) if (a[i] !== b[i]) d++;
  return d;
}
