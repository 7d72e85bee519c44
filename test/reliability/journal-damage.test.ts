import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJournal, encodeLine } from '../../packages/batch/src/state/_lines.js';
import { openFileStore, replay, statePaths } from '../../packages/batch/src/state/file-store.js';
import type { JournalRecord } from '../../packages/batch/src/state/records.js';
import { RunState } from '../../packages/batch/src/state/run-state.js';
import { tempDir } from '../e2e/_helpers.js';
import { size, testSeed } from './_support.js';

/**
 * The journal's crash contract, as a property over random journals (real records, written by the real encoder)
 * and random damage — truncation at any byte, any single bit flipped, garbage inserted anywhere:
 *
 * - replay keeps exactly the longest valid prefix: the records of the lines before the first damaged one;
 * - a torn tail (the damage leaves one invalid last line) is dropped silently;
 * - damage before the last line is refused with E_JOURNAL_CORRUPT, and `salvage` then keeps every line the damage
 *   did not touch, before the damage and after it, writes a header where the header was damaged, and adds an
 *   `unknown` for each task a damaged line may have been the intent of;
 * - after a torn tail, reopening and appending never leaves the garbage in the middle.
 *
 * The expected outcome is computed from the original lines and where the damage landed, not by decoding the
 * damaged bytes again, so the property does not restate the implementation.
 */

const FILE = 'test/reliability/journal-damage.test.ts';
const CREATE = { job: 'prop', manifestHash: 'mh', tool: 'flf2v/test' };

// ---- random journals -----------------------------------------------------------------------------------------

const text = fc.string({ unit: 'binary', maxLength: 24 });
const iso = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
const key = fc.constantFrom('k1', 'k2', 'k3', 'k4');
const n = fc.integer({ min: 1, max: 5 });
const nat = fc.nat({ max: 1_000_000 });
const errorRec = fc.record({
  code: fc.constantFrom('E_SERVER', 'E_NETWORK', 'E_MODERATION'),
  message: text,
  retryable: fc.boolean(),
});
const frame = fc.record({ display: text, path: text, sha256: fc.stringMatching(/^[0-9a-f]{64}$/) });

const body: fc.Arbitrary<JournalRecord> = fc.oneof(
  fc.record({
    t: fc.constant('session' as const),
    n,
    at: iso,
    tool: text,
    manifestHash: text,
    manifest: text,
    pid: nat,
    host: text,
    limits: fc.record({ submitRpm: fc.integer({ min: 1, max: 600 }) }, { requiredKeys: [] }),
  }),
  fc.record({
    t: fc.constant('planned' as const),
    key,
    id: text,
    at: iso,
    params: fc.record({
      selected_model: text,
      prompt: text,
      resolution: fc.constantFrom('720p', '1080p'),
      duration: fc.constantFrom(5, 6, 8),
      number_of_videos: fc.integer({ min: 1, max: 4 }),
    }),
    image: frame,
    last_image: frame,
  }),
  fc.record({
    t: fc.constant('uploaded' as const),
    sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
    url: text,
    at: iso,
  }),
  fc.record({ t: fc.constant('intent' as const), key, n, at: iso }),
  fc.record({ t: fc.constant('submitted' as const), key, n, taskId: text, at: iso, attempts: nat }),
  fc.record({ t: fc.constant('not_created' as const), key, n, at: iso, error: errorRec }),
  fc.record({ t: fc.constant('unknown' as const), key, n, at: iso, error: errorRec }),
  fc.record({
    t: fc.constant('completed' as const),
    key,
    taskId: text,
    urls: fc.array(text, { minLength: 1, maxLength: 3 }),
    at: iso,
    attempts: nat,
  }),
  fc.record({
    t: fc.constant('downloaded' as const),
    key,
    index: fc.integer({ min: 0, max: 3 }),
    path: text,
    url: text,
    sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
    bytes: nat,
    at: iso,
    attempts: nat,
  }),
  fc.record({ t: fc.constant('failed' as const), key, at: iso, stage: text, error: errorRec, attempts: nat }),
  fc.record({ t: fc.constant('stalled' as const), key, at: iso }),
  fc.record({
    t: fc.constant('reopened' as const),
    key,
    at: iso,
    reason: fc.constantFrom('retry-failed' as const, 'resubmit-failed' as const, 'resubmit-unknown' as const),
  }),
  fc.record({
    t: fc.constant('stats' as const),
    session: n,
    at: iso,
    stats: fc.record({
      upload: nat,
      submit: nat,
      status: nat,
      result: nat,
      download: nat,
      rateLimited: nat,
      retries: nat,
    }),
    state: fc.constantFrom('finished' as const, 'interrupted' as const),
  }),
);

const header = fc.record({
  t: fc.constant('header' as const),
  v: fc.constant(1),
  generation: fc.constant(0),
  tool: text,
  job: text,
  manifestHash: text,
  createdAt: iso,
});

/** A journal: a header, then 0–12 records (JSON round-tripped, as replay will see them). */
const journal = fc
  .tuple(header, fc.array(body, { maxLength: 12 }))
  .map(([h, rest]) => [h, ...rest].map((r) => JSON.parse(JSON.stringify(r)) as JournalRecord));

interface Encoded {
  records: JournalRecord[];
  bytes: Buffer;
  /** Byte offset where each line ends (after its newline). */
  ends: number[];
}

function encode(records: JournalRecord[]): Encoded {
  const lines = records.map((r) => Buffer.from(encodeLine(r)));
  const ends: number[] = [];
  let at = 0;
  for (const l of lines) {
    at += l.length;
    ends.push(at);
  }
  return { records, bytes: Buffer.concat(lines), ends };
}

/** Index of the line holding byte `p` (a line includes its newline); `records.length` past the end. */
function lineAt(e: Encoded, p: number): number {
  const k = e.ends.findIndex((end) => p < end);
  return k === -1 ? e.records.length : k;
}

// ---- random damage -------------------------------------------------------------------------------------------

type Damage =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; garbage: Uint8Array };

const damageFor = (len: number): fc.Arbitrary<Damage> =>
  fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.integer({ min: 0, max: len }) }),
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.integer({ min: 0, max: len - 1 }),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.integer({ min: 0, max: len }),
      // Garbage as a crash or a bad disk leaves it: arbitrary bytes, zero runs, stray newlines, text.
      garbage: fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }).map((k) => new Uint8Array(k)),
        fc.constantFrom(Buffer.from('\n'), Buffer.from('garbage\n'), Buffer.from('{"t":"intent"}\n')),
        fc.string({ minLength: 1, maxLength: 20 }).map((s) => Buffer.from(s)),
      ),
    }),
  );

function applyDamage(bytes: Buffer, d: Damage): Buffer {
  switch (d.kind) {
    case 'truncate':
      return bytes.subarray(0, d.at);
    case 'flip': {
      const out = Buffer.from(bytes);
      out[d.at]! ^= 1 << d.bit;
      return out;
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, d.at), d.garbage, bytes.subarray(d.at)]);
  }
}

interface Expected {
  /** How many original records replay must keep. */
  keep: number;
  /** Byte length of the kept prefix. */
  validBytes: number;
  /** Damage before the last line: refused without salvage. */
  refuse: boolean;
}

/**
 * What the contract says, from the original lines and where the damage landed. Line k is the first damaged
 * line (a line includes its newline); everything before it is kept. A truncation only ever leaves a torn tail.
 * Any other damage to a line that has a line after it is refused. Damage within the last line (or garbage
 * after it) is a torn tail exactly when it could be one: a torn write leaves one partial line — never a
 * newline before the file's last byte, never a whole record behind garbage.
 */
function expected(e: Encoded, d: Damage, damaged: Buffer): Expected {
  const n = e.records.length;
  if (d.kind === 'truncate') {
    // Whole lines before the cut are kept (a cut exactly at a line end keeps that line).
    const kept = e.ends.filter((end) => end <= d.at).length;
    return { keep: kept, validBytes: kept === 0 ? 0 : e.ends[kept - 1]!, refuse: false };
  }
  let k = lineAt(e, d.at);
  // Garbage that starts with a newline, put just before a line's own newline, ends that line intact: the
  // damage then starts with the next line.
  const completes = d.kind === 'insert' && k < n && d.at === e.ends[k]! - 1 && d.garbage[0] === 10;
  if (completes) k++;
  const validBytes = k === 0 ? 0 : e.ends[k - 1]!;
  const tail = damaged.subarray(validBytes);
  const newline = tail.indexOf(10);
  const moreLines = newline !== -1 && newline !== tail.length - 1;
  if (completes) return { keep: k, validBytes, refuse: moreLines };
  if (k < n - 1) return { keep: k, validBytes, refuse: true };
  // Garbage put in front of the last line leaves that line's complete, checksummed record inside the tail: a
  // torn write only ever cuts short, so that is damage too.
  const beforeLast = d.kind === 'insert' && k === n - 1 && d.at === validBytes;
  return { keep: k, validBytes, refuse: beforeLast || moreLines };
}

/**
 * Which original lines `salvage` keeps: every line the damage did not touch. A truncation keeps the whole lines
 * before the cut; a flipped bit ruins its line, and a flipped newline the next line too (merged into it); garbage
 * ruins the line it lands in, and the line it lands in front of unless it ends with a newline — except garbage
 * that starts with a newline put just before a line's own newline, which ends that line intact.
 */
function salvageKeeps(e: Encoded, d: Damage): boolean[] {
  const starts = e.ends.map((_, i) => (i === 0 ? 0 : e.ends[i - 1]!));
  return e.ends.map((end, i) => {
    const start = starts[i]!;
    if (d.kind === 'truncate') return end <= d.at;
    if (d.kind === 'flip') return !(d.at >= start && d.at < end) && !(i > 0 && d.at === start - 1);
    if (d.at === start) return d.garbage[d.garbage.length - 1] === 10;
    if (d.at === end - 1) return d.garbage[0] === 10;
    return !(d.at > start && d.at < end);
  });
}

/** The RunState that applying `records` in order yields (compared by snapshot). */
function stateOf(records: readonly JournalRecord[]): ReturnType<RunState['toSnapshot']> {
  const s = new RunState();
  for (const r of records) s.apply(r);
  return s.toSnapshot(0);
}

async function writeJournal(dir: string, bytes: Uint8Array): Promise<void> {
  const paths = statePaths(dir);
  await rm(paths.stateDir, { recursive: true, force: true });
  await mkdir(paths.stateDir, { recursive: true });
  await writeFile(paths.journal, bytes);
}

describe('journal: torn tails and bit flips (fast-check)', () => {
  it('replay keeps exactly the longest valid prefix; refuses damage before the last line; salvage keeps every untouched line', async () => {
    const seed = testSeed('journal replay', FILE);
    const dir = await tempDir('flf2v-rel-journal-');
    const stats = { truncate: 0, flip: 0, insert: 0, refused: 0, torn: 0, intact: 0 };
    await fc.assert(
      fc.asyncProperty(
        journal.chain((records) => {
          const e = encode(records);
          return fc.tuple(fc.constant(e), damageFor(e.bytes.length));
        }),
        async ([e, d]) => {
          const damaged = applyDamage(e.bytes, d);
          const want = expected(e, d, damaged);
          const kept = e.records.slice(0, want.keep);
          stats[d.kind]++;

          // The decoder on its own.
          const decoded = decodeJournal(damaged);
          expect(decoded.records).toEqual(kept);
          expect(decoded.validBytes).toBe(want.validBytes);
          if (want.validBytes === damaged.length) {
            stats.intact++;
            expect(decoded.firstInvalidLine).toBeUndefined();
          } else {
            expect(decoded.firstInvalidLine).toBe(want.keep + 1);
            expect(decoded.tornTailOnly).toBe(!want.refuse);
          }

          // replay(): refuse, or keep the prefix silently.
          await writeJournal(dir, damaged);
          if (want.refuse) {
            stats.refused++;
            await expect(replay(dir)).rejects.toMatchObject({ code: 'E_JOURNAL_CORRUPT' });
          } else {
            if (want.validBytes !== damaged.length) stats.torn++;
            const r = await replay(dir);
            expect(r.state.toSnapshot(0)).toEqual(stateOf(kept));
            expect(r.validBytes).toBe(want.validBytes);
            expect(r.droppedBytes).toBe(damaged.length - want.validBytes);
          }
          // replay({ salvage }): every untouched line, before the damage and after it.
          const keeps = salvageKeeps(e, d);
          const salvaged = e.records.filter((_, i) => keeps[i]);
          const s = await replay(dir, { salvage: true });
          const lengths = e.ends.map((end, i) => end - (i === 0 ? 0 : e.ends[i - 1]!));
          expect(s.validBytes).toBe(lengths.reduce((sum, len, i) => sum + (keeps[i] ? len : 0), 0));
          if (!s.salvaged) {
            expect(s.state.toSnapshot(0)).toEqual(stateOf(salvaged));
          } else {
            // The new journal: a new header where the old one was damaged, every kept line, then an `unknown` for
            // each task a damaged line may have been the intent of — and it replays to the state salvage holds.
            const written = decodeJournal(s.salvaged.journal).records;
            const header = salvaged.length > 0 && !keeps[0] ? written.slice(0, 1) : [];
            expect(header.every((r) => r.t === 'header')).toBe(true);
            expect(written.slice(header.length, header.length + salvaged.length)).toEqual(salvaged);
            const added = written.slice(header.length + salvaged.length);
            for (const r of added)
              expect(r).toMatchObject({ t: 'unknown', error: { code: 'E_SUBMIT_UNKNOWN' } });
            expect(s.state.toSnapshot(0)).toEqual(stateOf(written));
          }
          // Replay is read-only: the damaged bytes are still there for a person to inspect.
          expect(Buffer.compare(await readFile(statePaths(dir).journal), damaged)).toBe(0);
        },
      ),
      { seed, numRuns: size(1_500, 20_000) },
    );
    console.log('[journal replay] cases:', stats);
    // Every kind of outcome was exercised, not just the easy one.
    expect(stats.refused).toBeGreaterThan(0);
    expect(stats.torn).toBeGreaterThan(0);
  });

  it('after a torn tail, reopening and appending never leaves the garbage in the middle', async () => {
    const seed = testSeed('journal reopen', FILE);
    const dir = await tempDir('flf2v-rel-journal-');
    await fc.assert(
      fc.asyncProperty(
        journal.chain((records) => {
          const e = encode(records);
          const len = e.bytes.length;
          // Torn tails only: a cut anywhere, or junk without a newline after the last line (a crash that
          // extended the file, e.g. zeros).
          const torn: fc.Arbitrary<Damage> = fc.oneof(
            fc.record({ kind: fc.constant('truncate' as const), at: fc.integer({ min: 0, max: len }) }),
            fc.record({
              kind: fc.constant('insert' as const),
              at: fc.constant(len),
              garbage: fc
                .uint8Array({ minLength: 1, maxLength: 40 })
                .map((g) => g.map((b) => (b === 10 ? 0 : b))),
            }),
          );
          return fc.tuple(fc.constant(e), torn, fc.array(body, { minLength: 1, maxLength: 6 }), fc.boolean());
        }),
        async ([e, d, more, durable]) => {
          const damaged = applyDamage(e.bytes, d);
          const want = expected(e, d, damaged);
          expect(want.refuse).toBe(false);
          await writeJournal(dir, damaged);
          const appended = more.map((r) => JSON.parse(JSON.stringify(r)) as JournalRecord);
          const store = await openFileStore(dir, { create: CREATE });
          for (const r of appended) {
            if (durable) await store.appendDurable(r);
            else store.append(r);
          }
          await store.close();

          const after = await readFile(statePaths(dir).journal);
          const decoded = decodeJournal(after);
          // Not a byte of the torn tail survives: the file is all whole, valid lines.
          expect(decoded.firstInvalidLine).toBeUndefined();
          expect(decoded.validBytes).toBe(after.length);
          const kept = e.records.slice(0, want.keep);
          if (kept.length === 0) {
            // Torn inside the header: the store starts the journal afresh with a new header.
            expect(decoded.records[0]).toMatchObject({ t: 'header', job: CREATE.job });
            expect(decoded.records.slice(1)).toEqual(appended);
          } else {
            expect(decoded.records).toEqual([...kept, ...appended]);
            expect(after.subarray(0, want.validBytes).equals(e.bytes.subarray(0, want.validBytes))).toBe(
              true,
            );
          }
          const r = await replay(dir);
          expect(r.droppedBytes).toBe(0);
          if (kept.length > 0) expect(r.state.toSnapshot(0)).toEqual(stateOf([...kept, ...appended]));
        },
      ),
      { seed, numRuns: size(300, 3_000) },
    );
  });

  // Regression: a flipped bit in the newline that ends the next-to-last line merges the last two lines into one
  // invalid last line, which replay once took for a torn tail and dropped silently — losing an acknowledged
  // record (here the taskId of a submitted task, so the next run would have sent it again). Found by the
  // property above; fixed in aee195c.
  it('refuses a journal whose next-to-last newline was flipped (two lines merged into one torn-looking tail)', async () => {
    const dir = await tempDir('flf2v-rel-journal-');
    const records: JournalRecord[] = [
      {
        t: 'header',
        v: 1,
        generation: 0,
        tool: 't',
        job: 'j',
        manifestHash: 'm',
        createdAt: '2026-01-01T00:00:00.000Z',
      },
      {
        t: 'planned',
        key: 'k1',
        id: 'a',
        at: '2026-01-01T00:00:00.000Z',
        params: { selected_model: 'm', prompt: 'p', resolution: '720p', duration: 5, number_of_videos: 1 },
        image: { display: 'a.png' },
        last_image: { display: 'b.png' },
      },
      { t: 'intent', key: 'k1', n: 1, at: '2026-01-01T00:00:01.000Z' },
      { t: 'submitted', key: 'k1', n: 1, taskId: 'T1', at: '2026-01-01T00:00:02.000Z', attempts: 1 },
    ];
    const e = encode(records);
    const damaged = applyDamage(e.bytes, { kind: 'flip', at: e.ends[2]! - 1, bit: 0 });
    await writeJournal(dir, damaged);
    await expect(replay(dir)).rejects.toMatchObject({ code: 'E_JOURNAL_CORRUPT' });
  });
});
