import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * CSV text encodings. A file is read twice: once here (hash, and whether it is valid UTF-8), then decoded and
 * parsed as a stream. Re-reading a file costs far less than holding it in memory or guessing wrong.
 */

export interface FileScan {
  sha256: string;
  /** The whole file decodes as UTF-8 (a BOM is allowed). */
  validUtf8: boolean;
  /** Every byte is ASCII: every ASCII-compatible encoding reads it the same. */
  ascii: boolean;
  /** A UTF-16 byte order mark, as Excel's "Unicode Text" writes. */
  utf16?: 'utf-16le' | 'utf-16be';
}

export async function scanFile(path: string): Promise<FileScan> {
  const hash = createHash('sha256');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let validUtf8 = true;
  let ascii = true;
  let first = true;
  let utf16: FileScan['utf16'];
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    if (first && bytes.length >= 2) {
      if (bytes[0] === 0xff && bytes[1] === 0xfe) utf16 = 'utf-16le';
      if (bytes[0] === 0xfe && bytes[1] === 0xff) utf16 = 'utf-16be';
    }
    first = false;
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
  const scan: FileScan = { sha256: hash.digest('hex'), validUtf8, ascii };
  if (utf16) scan.utf16 = utf16;
  return scan;
}

export type EncodingChoice =
  | { ok: true; encoding: string; warning?: string }
  | { ok: false; message: string };

/** What the GBK family is decoded as: GB18030 is GBK's superset, and identical on every GBK byte sequence. */
const GBK = 'gb18030';

/**
 * The encoding to read a CSV with: the one asked for, else UTF-16 by its BOM, UTF-8 when the bytes are valid
 * UTF-8, else GBK (Chinese Excel's "CSV") with a warning that says so.
 */
export async function chooseEncoding(
  scan: FileScan,
  asked: string | undefined,
  how: string,
): Promise<EncodingChoice> {
  if (asked !== undefined) {
    const name = asked.trim();
    if (!NATIVE.has(normalize(name)) && !(await iconv()).encodingExists(name)) {
      return {
        ok: false,
        message: `unknown encoding ${JSON.stringify(asked)}; expected a name such as utf-8, gbk, gb18030, big5 or shift_jis`,
      };
    }
    const unicode = /^utf-?8$/i.test(name);
    if (!unicode && scan.validUtf8 && !scan.ascii && !scan.utf16) {
      return {
        ok: true,
        encoding: name,
        warning: `read as ${name} as asked (${how}), but the file is valid UTF-8: if its text looks garbled, drop the encoding`,
      };
    }
    return { ok: true, encoding: name };
  }
  if (scan.utf16) return { ok: true, encoding: scan.utf16 };
  if (scan.validUtf8) return { ok: true, encoding: 'utf-8' };
  return {
    ok: true,
    encoding: GBK,
    warning:
      'not valid UTF-8, so read as GBK (as Chinese Excel saves CSV); if its text looks wrong, give the encoding with --encoding or tasks_csv: { path, encoding }',
  };
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
