import { crc32 } from 'node:zlib';
import type { JournalRecord } from './records.js';

/**
 * Journal line format: `<crc32 as 8 hex digits> <JSON>\n`. The checksum catches what JSON parsing alone would
 * not: a flipped bit inside a string still parses.
 */
export function encodeLine(record: JournalRecord): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

export interface DecodedJournal {
  /** The valid prefix's records (empty when they were handed to a callback instead). */
  records: JournalRecord[];
  /** Byte length of the longest valid prefix (whole lines only). */
  validBytes: number;
  /** The 1-based line number of the first invalid line, when there is one. */
  firstInvalidLine?: number;
  /** Why that line is invalid. */
  reason?: string;
  /** True when the only invalid data is the last line (a write torn by a crash): safe to drop. */
  tornTailOnly: boolean;
  /**
   * Salvage only: the 1-based numbers of the invalid lines passed over, and the byte ranges `[start, end)` of the
   * lines kept (each valid line, newline included), in order.
   */
  salvaged?: { skippedLines: number[]; kept: Array<[number, number]>; skipped: Array<[number, number]> };
}

function decodeLine(line: string): JournalRecord | string {
  if (line.length < 10 || line[8] !== ' ') return 'not a journal line';
  const sum = Number.parseInt(line.slice(0, 8), 16);
  const json = line.slice(9);
  if (!/^[0-9a-f]{8}$/.test(line.slice(0, 8)) || crc32(json) !== sum) return 'checksum mismatch';
  return parseRecord(json);
}

function parseRecord(json: string): JournalRecord | string {
  try {
    const record = JSON.parse(json) as JournalRecord;
    if (typeof record !== 'object' || record === null || typeof record.t !== 'string') return 'not a record';
    return record;
  } catch {
    return 'invalid JSON';
  }
}

const HEX = /^[0-9a-f]{8}$/;

/** The fast path of `decodeLine` on bytes: the checksum is taken over the bytes, never re-encoded. */
function decodeLineAt(buffer: Buffer, start: number, end: number): JournalRecord | string {
  if (end - start < 10 || buffer[start + 8] !== 0x20) return 'not a journal line';
  const hex = buffer.toString('latin1', start, start + 8);
  if (!HEX.test(hex) || crc32(buffer.subarray(start + 9, end)) !== Number.parseInt(hex, 16)) {
    return 'checksum mismatch';
  }
  return parseRecord(buffer.toString('utf8', start + 9, end));
}

/** Whether a complete journal line starts somewhere after the beginning of `segment`. */
function holdsRecord(segment: string): boolean {
  const start = /[0-9a-f]{8} \{/g;
  for (let m = start.exec(segment); m; m = start.exec(segment)) {
    if (m.index > 0 && typeof decodeLine(segment.slice(m.index)) !== 'string') return true;
    start.lastIndex = m.index + 1;
  }
  return false;
}

/**
 * Decode a journal. Stops at the first invalid line and reports whether everything after the valid prefix is
 * a single torn line (tolerated) or more (corruption: the caller refuses, or salvages on request).
 */
export function decodeJournal(buffer: Buffer, onRecord?: (record: JournalRecord) => void): DecodedJournal {
  const records: JournalRecord[] = [];
  let offset = 0;
  let lineNo = 0;
  while (offset < buffer.length) {
    const end = buffer.indexOf(10, offset);
    lineNo++;
    const lineEnd = end === -1 ? buffer.length : end;
    const decoded = decodeLineAt(buffer, offset, lineEnd);
    if (typeof decoded === 'string' || end === -1) {
      const last = end === -1 || end === buffer.length - 1;
      return {
        records,
        validBytes: offset,
        firstInvalidLine: lineNo,
        reason: typeof decoded === 'string' ? decoded : 'line not terminated',
        // Torn: the invalid line is the last one, so nothing after it was ever acknowledged — unless a complete,
        // checksummed record sits inside it (a lost newline merged two lines): a torn write only cuts short.
        tornTailOnly: last && !holdsRecord(buffer.toString('utf8', offset, lineEnd)),
      };
    }
    // With a callback, records are handed over as they are read rather than collected: a 100,000-task journal
    // holds half a million of them.
    if (onRecord) onRecord(decoded);
    else records.push(decoded);
    offset = end + 1;
  }
  return { records, validBytes: offset, tornTailOnly: true };
}

/**
 * Decode a damaged journal for `--salvage-state`: every line that passes its checksum is kept, in order, and every
 * other line is passed over (a torn last line included). Records are independent facts, each applied once, so a
 * record after a damaged line is as good as one before it: dropping it would forget task ids and downloads, and
 * a task whose id is forgotten is sent again.
 */
export function salvageJournal(buffer: Buffer, onRecord: (record: JournalRecord) => void): DecodedJournal {
  const skippedLines: number[] = [];
  const kept: Array<[number, number]> = [];
  const skipped: Array<[number, number]> = [];
  let reason: string | undefined;
  let offset = 0;
  let lineNo = 0;
  while (offset < buffer.length) {
    const end = buffer.indexOf(10, offset);
    lineNo++;
    const lineEnd = end === -1 ? buffer.length : end;
    const decoded = end === -1 ? 'line not terminated' : decodeLineAt(buffer, offset, lineEnd);
    if (typeof decoded === 'string') {
      skippedLines.push(lineNo);
      skipped.push([offset, lineEnd]);
      reason ??= decoded;
    } else {
      onRecord(decoded);
      kept.push([offset, end + 1]);
    }
    offset = lineEnd + 1;
  }
  return {
    records: [],
    validBytes: kept.reduce((n, [a, b]) => n + b - a, 0),
    ...(skippedLines.length > 0 ? { firstInvalidLine: skippedLines[0], reason } : {}),
    tornTailOnly: skippedLines.length === 0,
    salvaged: { skippedLines, kept, skipped },
  };
}
