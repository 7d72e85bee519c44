/**
 * Task ids become file names (`videos/<id>.mp4`), so they must be safe as one on every platform.
 */

export const ID_MAX_CHARS = 100;

const UNSAFE = /[/\\<>:"|?*\u0000-\u001f\u007f]/;

/**
 * Names Windows keeps for devices, whatever follows them after a dot and whatever their case: `videos/CON.mp4`
 * or `nul.final.mp4` opens the console or the null device, not a file. COM0/LPT0 and the superscript digits
 * are on Microsoft's list too ("Naming Files, Paths, and Namespaces").
 */
const WINDOWS_DEVICE = /^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9¹²³]|LPT[0-9¹²³])$/i;

export type IdCheck = { ok: true; id: string } | { ok: false; expected: string };

const EXPECTED = `a name usable as a file name (no / \\ < > : " | ? * or control characters, at most ${ID_MAX_CHARS} characters)`;

/** The device name an id would open on Windows (`CON` for `con.v2`), if any. */
export function windowsDeviceName(id: string): string | undefined {
  // Windows drops trailing dots and spaces, and only the part before the first dot names the device.
  const stem = id.split('.')[0]!.replace(/[. ]+$/, '');
  return WINDOWS_DEVICE.test(stem) ? stem.toUpperCase() : undefined;
}

/** Accepts text and whole numbers (a job name computed by a script); trims surrounding spaces. */
export function checkId(value: unknown): IdCheck {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string') return { ok: false, expected: EXPECTED };
  const id = text.trim();
  if (id === '' || id === '.' || id === '..' || UNSAFE.test(id) || [...id].length > ID_MAX_CHARS) {
    return { ok: false, expected: EXPECTED };
  }
  const device = windowsDeviceName(id);
  if (device !== undefined) {
    return {
      ok: false,
      expected: `a name that is not a Windows device name (${device} is one: on Windows a file named ${JSON.stringify(`${id}.mp4`)} is the device, not a file)`,
    };
  }
  return { ok: true, id };
}

/**
 * What two ids must not share: file systems on macOS and Windows ignore case, and macOS also ignores Unicode
 * normalization (`é` written as one code point or as `e` + accent), so such ids would name one video file.
 */
export function idFileKey(id: string): string {
  return id.normalize('NFC').toUpperCase().toLowerCase();
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
