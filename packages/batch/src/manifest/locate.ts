import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, parse, relative, resolve, sep } from 'node:path';

/**
 * Finding a file that a sheet names, whichever machine wrote the sheet. A sheet made on Windows writes
 * `frames\day 1\a.png`; one made on macOS may spell `é` as `e` + accent (NFD) where the disk has `é` (NFC), or
 * the other way round; a sheet typed on a case-insensitive disk may say `A.png` for `a.png`. On Linux each of
 * those is "not found". The path as written always wins; the others are tried only when it does not exist.
 */

export type Located =
  | {
      found: true;
      /** Absolute path of the file as it is on disk. */
      path: string;
      /** Its size, bytes (from the same look-up). */
      size: number;
      /** Said to the user as a warning when the path had to be read differently than written. */
      note?: string;
    }
  | { found: false; path: string; kind: 'missing' | 'not-a-file'; hint?: string };

const WINDOWS_ABSOLUTE = /^(?:[a-z]:[\\/]|\\\\)/i;

/** `é` is `é`, whichever way it is spelled; case is folded separately, because that deserves a warning. */
const sameName = (a: string, b: string) => a.normalize('NFC') === b.normalize('NFC');
const sameIgnoringCase = (a: string, b: string) =>
  a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase();

export class FileLocator {
  /** Directory listings read while looking, shared by every lookup of one manifest. */
  private readonly listings = new Map<string, Promise<string[] | undefined>>();

  /** Where `written` (relative to `baseDir`, or absolute) is on this machine, or why it is not there. */
  async locate(baseDir: string, written: string): Promise<Located> {
    const exact = resolve(baseDir, written);
    const exactStat = await statOf(exact);
    if (exactStat?.isFile()) return { found: true, path: exact, size: exactStat.size };
    if (exactStat) return { found: false, path: exact, kind: 'not-a-file' };
    const windows = sep === '/' && written.includes('\\');
    if (windows && WINDOWS_ABSOLUTE.test(written)) {
      return {
        found: false,
        path: exact,
        kind: 'missing',
        hint: 'it is an absolute Windows path; give the path relative to the file that names it',
      };
    }
    const wanted = windows ? resolve(baseDir, written.replaceAll('\\', '/')) : exact;
    const match = await this.walk(wanted);
    if (match.path === undefined) {
      return match.ambiguous
        ? { found: false, path: wanted, kind: 'missing', hint: match.ambiguous }
        : { found: false, path: wanted, kind: 'missing' };
    }
    const found = await statOf(match.path);
    if (!found?.isFile()) return { found: false, path: match.path, kind: 'not-a-file' };
    const shown = relativeTo(baseDir, match.path);
    const reasons: string[] = [];
    if (windows) reasons.push('written with Windows separators (\\)');
    if (match.caseDiffers) reasons.push('the name on disk differs in case');
    const located = { found: true as const, path: match.path, size: found.size };
    if (reasons.length === 0) return located;
    return { ...located, note: `${reasons.join(', and ')}: read as ${shown}` };
  }

  /**
   * Walk down from the deepest directory that exists, matching each missing component by Unicode
   * normalization, then ignoring case. Two entries that both match are not guessed between.
   */
  private async walk(wanted: string): Promise<{ path?: string; caseDiffers?: boolean; ambiguous?: string }> {
    const { root } = parse(wanted);
    const parts = wanted.slice(root.length).split(sep).filter(Boolean);
    let base = root;
    let i = 0;
    // The deepest existing ancestor, found from the top: every component before it is taken as written.
    while (i < parts.length && (await statOf(join(base, parts[i]!))) !== undefined) {
      base = join(base, parts[i]!);
      i++;
    }
    let caseDiffers = false;
    for (; i < parts.length; i++) {
      const part = parts[i]!;
      const names = await this.list(base);
      if (names === undefined) return {};
      let matches = names.filter((name) => sameName(name, part));
      if (matches.length === 0) {
        matches = names.filter((name) => sameIgnoringCase(name, part));
        if (matches.length > 0) caseDiffers = true;
      }
      if (matches.length > 1) {
        const found = matches
          .sort()
          .map((m) => JSON.stringify(m))
          .join(' and ');
        return {
          ambiguous: `${found} in ${base} both match ${JSON.stringify(part)}; write the name exactly`,
        };
      }
      if (matches.length === 0) return {};
      base = join(base, matches[0]!);
    }
    return { path: base, caseDiffers };
  }

  private list(dir: string): Promise<string[] | undefined> {
    let listing = this.listings.get(dir);
    if (!listing) {
      listing = readdir(dir).catch(() => undefined);
      this.listings.set(dir, listing);
    }
    return listing;
  }
}

async function statOf(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

function relativeTo(baseDir: string, path: string): string {
  const rel = relative(baseDir, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}
