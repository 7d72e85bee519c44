import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { type Guess, guessEncoding } from './charset.js';

/**
 * CSV text encodings. A file is read twice: once here (hash, and whether it is valid UTF-8), then decoded and
 * parsed as a stream. Re-reading a file costs far less than holding it in memory or guessing wrong. A file
 * that is not UTF-8 is read a third time, for the lines a guess is made from.
 */

export interface FileScan {
  sha256: string;
  /** The whole file decodes as UTF-8 (a BOM is allowed). */
  validUtf8: boolean;
  /** Every byte is ASCII: every ASCII-compatible encoding reads it the same. */
  ascii: boolean;
  /** UTF-16, by its byte order mark (Excel's "Unicode Text") or by the zero bytes of its ASCII characters. */
  utf16?: 'utf-16le' | 'utf-16be';
  /** Not text at all: a spreadsheet workbook saved under a .csv name, or other binary bytes. */
  binary?: 'xlsx' | 'xls' | 'other';
  /** The first bytes of the file (up to 64 KiB), for the header row and the delimiter. */
  head: Buffer;
}

const HEAD_BYTES = 64 * 1024;
/** ZIP (an .xlsx is one) and OLE2 (.xls) signatures. */
const XLSX = Buffer.from('PK\x03\x04', 'latin1');
const XLS = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

export async function scanFile(path: string): Promise<FileScan> {
  const hash = createHash('sha256');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let validUtf8 = true;
  let ascii = true;
  const head: Buffer[] = [];
  let headBytes = 0;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    if (headBytes < HEAD_BYTES) {
      head.push(bytes.subarray(0, HEAD_BYTES - headBytes));
      headBytes += Math.min(bytes.length, HEAD_BYTES - headBytes);
    }
    if (ascii) {
      for (const b of bytes) {
        if (b > 0x7f) {
          ascii = false;
          break;
        }
      }
    }
    if (validUtf8 && !ascii) {
      try {
        decoder.decode(bytes, { stream: true });
      } catch {
        validUtf8 = false;
      }
    }
  }
  if (validUtf8) {
    try {
      decoder.decode();
    } catch {
      validUtf8 = false;
    }
  }
  const scan: FileScan = { sha256: hash.digest('hex'), validUtf8, ascii, head: Buffer.concat(head) };
  const utf16 = utf16Of(scan.head);
  if (utf16) scan.utf16 = utf16;
  else if (scan.head.subarray(0, 4).equals(XLSX)) scan.binary = 'xlsx';
  else if (scan.head.subarray(0, 8).equals(XLS)) scan.binary = 'xls';
  else if (scan.head.includes(0)) scan.binary = 'other';
  return scan;
}

/** By BOM; without one, by where the zero bytes of ASCII characters fall (text never has zero bytes). */
function utf16Of(head: Buffer): FileScan['utf16'] {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  const pairs = Math.floor(Math.min(head.length, 4096) / 2);
  if (pairs < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (head[i] === 0) evenZeros++;
    if (head[i + 1] === 0) oddZeros++;
  }
  if (oddZeros > pairs * 0.3 && evenZeros === 0) return 'utf-16le';
  if (evenZeros > pairs * 0.3 && oddZeros === 0) return 'utf-16be';
  return undefined;
}

export type EncodingChoice =
  | {
      ok: true;
      encoding: string;
      warning?: string;
      /** A guess: the first row with non-ASCII text is shown to the user, decoded, in a warning. */
      guessed?: { name: string; how: 'only' | 'statistics' };
    }
  | { ok: false; message: string };

const HOW_TO_SAY = 'give the encoding with --encoding or tasks_csv: { path, encoding }';

/**
 * The encoding to read a CSV with: the one asked for (unless the file plainly is in another), else UTF-16 by
 * its BOM, UTF-8 when the bytes are valid UTF-8, else a legacy encoding when it can be told safely
 * (`charset.ts`); when it cannot, an error that shows the candidate readings.
 */
export async function chooseEncoding(
  path: string,
  scan: FileScan,
  asked: string | undefined,
  how: string,
): Promise<EncodingChoice> {
  if (scan.binary) return { ok: false, message: binaryText(scan.binary) };
  if (asked !== undefined) return askedEncoding(path, scan, asked.trim(), how);
  if (scan.utf16) return { ok: true, encoding: scan.utf16 };
  if (scan.validUtf8) return { ok: true, encoding: 'utf-8' };
  const sample = await nonAsciiLines(path);
  const [iconvLite, chardet] = await Promise.all([iconv(), import('chardet')]);
  const guess: Guess = guessEncoding(
    sample.bytes,
    (bytes, encoding) => iconvLite.decode(Buffer.from(bytes), encoding),
    (bytes) => chardet.analyse(bytes),
  );
  if (guess.ok) return { ok: true, encoding: guess.encoding, guessed: { name: guess.name, how: guess.how } };
  const line = firstLine(sample);
  const readings = guess.readings.map(
    (r) => `${quote(excerpt(iconvLite.decode(line.bytes, r.encoding)))} as ${r.name}`,
  );
  // Code pages outside the guessable few (Central European, Greek, Turkish…): what statistics suggest, read out
  // for the user to recognise — never taken.
  const shownAs = new Set(guess.readings.map((r) => r.encoding));
  for (const m of chardet.analyse(sample.bytes).slice(0, 3)) {
    const encoding = m.name.toLowerCase();
    if (shownAs.has(encoding) || encoding === 'iso-8859-1' || !iconvLite.encodingExists(encoding)) continue;
    const text = iconvLite.decode(line.bytes, encoding);
    if (text.includes('\uFFFD')) continue;
    shownAs.add(encoding);
    readings.push(`${quote(excerpt(text))} as ${encoding} (by statistics)`);
  }
  const shown = readings.length > 0 ? `: line ${line.number} reads ${readings.join(', ')}` : '';
  return {
    ok: false,
    message: `not UTF-8, and its encoding cannot be told safely${shown}. Nothing is guessed: ${HOW_TO_SAY}. ${EXCEL_CODE_PAGES}`,
  };
}

/** Where a legacy CSV's encoding comes from, for the person who has to name it. */
const EXCEL_CODE_PAGES =
  'Excel saves "CSV" in the Windows code page of its language: windows-1252 (Western European), windows-1250 ' +
  '(Central European), windows-1251 (Cyrillic), windows-1253 (Greek), windows-1254 (Turkish), windows-1257 ' +
  '(Baltic), gb18030, big5, shift_jis, cp949; "CSV UTF-8" needs none';

async function askedEncoding(
  path: string,
  scan: FileScan,
  name: string,
  how: string,
): Promise<EncodingChoice> {
  const key = normalize(name);
  if (!NATIVE.has(key) && !(await iconv()).encodingExists(name)) {
    return {
      ok: false,
      message: `unknown encoding ${JSON.stringify(name)}; expected a name such as utf-8, windows-1252, gbk, big5, shift_jis or utf-16le`,
    };
  }
  const unicode = /^utf(8|16|16le|16be)$/.test(key);
  if (scan.utf16 && !key.startsWith('utf16')) {
    return {
      ok: false,
      message: `the file is UTF-16 (${scan.utf16}) but is to be read as ${name} (${how}): drop the encoding`,
    };
  }
  if (!unicode && scan.validUtf8 && !scan.ascii && !scan.utf16) {
    // Text in another encoding is practically never valid UTF-8 as well: this is a UTF-8 file read wrong.
    const line = firstLine(await nonAsciiLines(path));
    const iconvLite = await iconv();
    const asUtf8 = excerpt(line.bytes.toString('utf8'));
    const asAsked = excerpt(iconvLite.decode(line.bytes, name));
    return {
      ok: false,
      message: `the file is UTF-8, but is to be read as ${name} (${how}): line ${line.number} would read ${quote(asAsked)} instead of ${quote(asUtf8)}. Drop the encoding`,
    };
  }
  return { ok: true, encoding: name };
}

function binaryText(kind: NonNullable<FileScan['binary']>): string {
  if (kind === 'other')
    return 'expected CSV text, found binary bytes (zero bytes): is it a spreadsheet or an image?';
  const what = kind === 'xlsx' ? 'an Excel workbook (.xlsx)' : 'an Excel 97–2003 workbook (.xls)';
  return `expected CSV text, found ${what} saved under this name: in Excel, save it as "CSV UTF-8" (or "Unicode Text")`;
}

/** The lines of a file that have non-ASCII bytes (up to 64 KiB of them), and where the first one is. */
async function nonAsciiLines(
  path: string,
): Promise<{ bytes: Buffer; first?: { number: number; bytes: Buffer } }> {
  const lines: Buffer[] = [];
  let size = 0;
  let number = 0;
  let first: { number: number; bytes: Buffer } | undefined;
  let carry = Buffer.alloc(0);
  const take = (line: Buffer) => {
    number++;
    if (size >= HEAD_BYTES || !line.some((b) => b > 0x7f)) return;
    first ??= { number, bytes: line };
    lines.push(line, NEWLINE);
    size += line.length + 1;
  };
  // Splitting at 0x0A is safe in every candidate encoding: none uses it inside a multi-byte character.
  for await (const chunk of createReadStream(path)) {
    let data = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let at = data.indexOf(0x0a);
    while (at >= 0) {
      take(data.subarray(0, at));
      data = data.subarray(at + 1);
      at = data.indexOf(0x0a);
    }
    carry = Buffer.from(data);
    if (size >= HEAD_BYTES) break;
  }
  if (carry.length > 0 && size < HEAD_BYTES) take(carry);
  return first ? { bytes: Buffer.concat(lines), first } : { bytes: Buffer.concat(lines) };
}

const NEWLINE = Buffer.from('\n');

function firstLine(sample: Awaited<ReturnType<typeof nonAsciiLines>>): { number: number; bytes: Buffer } {
  return sample.first ?? { number: 1, bytes: Buffer.alloc(0) };
}

/** Up to `max` characters, starting shortly before the first non-ASCII one so the text that matters is in view. */
export function excerpt(text: string, max = 60): string {
  const clean = text.replace(/\r$/, '').trim();
  const at = clean.search(/[^\x00-\x7f]/);
  const start = at > 20 ? at - 20 : 0;
  const cut = [...clean.slice(start)];
  const body = cut.length > max ? `${cut.slice(0, max).join('')}…` : cut.join('');
  return start > 0 ? `…${body}` : body;
}

function quote(text: string): string {
  return `«${text}»`;
}

/** Encodings Node decodes itself; iconv-lite (loaded only when needed) does the others. */
const NATIVE = new Map<string, BufferEncoding>([
  ['utf8', 'utf8'],
  ['utf16le', 'utf16le'],
]);

function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

async function iconv() {
  return (await import('iconv-lite')).default;
}

/** Decode the first bytes of a file (for its header row) as `encoding`; a cut character at the end is harmless. */
export async function decodeHead(head: Buffer, encoding: string): Promise<string> {
  const native = NATIVE.get(normalize(encoding));
  return native === undefined ? (await iconv()).decode(head, encoding) : head.toString(native);
}

export async function decodeStream(encoding: string): Promise<NodeJS.ReadWriteStream> {
  const native = NATIVE.get(normalize(encoding));
  if (native === undefined) return (await iconv()).decodeStream(encoding);
  const decoder = new StringDecoder(native);
  return new Transform({
    decodeStrings: true,
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding, done) {
      const text = decoder.write(chunk);
      done(null, text.length > 0 ? text : undefined);
    },
    flush(done) {
      const text = decoder.end();
      done(null, text.length > 0 ? text : undefined);
    },
  });
}
