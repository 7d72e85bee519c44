/**
 * Task ids become file names (`videos/<id>.mp4`), so they must be safe as one on every platform.
 */

export const ID_MAX_CHARS = 100;

const UNSAFE = /[/\\<>:"|?*\u0000-\u001f\u007f]/;

export type IdCheck = { ok: true; id: string } | { ok: false; expected: string };

const EXPECTED = `a name usable as a file name (no / \\ < > : " | ? * or control characters, at most ${ID_MAX_CHARS} characters)`;

/** Accepts text and whole numbers (`id: 7` in YAML); trims surrounding spaces. */
export function checkId(value: unknown): IdCheck {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string') return { ok: false, expected: EXPECTED };
  const id = text.trim();
  if (id === '' || id === '.' || id === '..' || UNSAFE.test(id) || [...id].length > ID_MAX_CHARS) {
    return { ok: false, expected: EXPECTED };
  }
  return { ok: true, id };
}

/** The id of a task the manifest did not name: stable because it comes from the task's key. */
export function derivedId(key: string, hexChars = 12): string {
  return `task-${key.slice(0, hexChars)}`;
}

/** `day-01`, `day-02`, … (`day-001` once there are more than 99). */
export function sequenceId(prefix: string, index: number, count: number): string {
  const width = Math.max(2, String(count).length);
  return `${prefix}-${String(index + 1).padStart(width, '0')}`;
}
