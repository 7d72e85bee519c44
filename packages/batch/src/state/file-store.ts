import { copyFile, type FileHandle, mkdir, open, readFile, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from '../util/fs-atomic.js';
import { localIoFailure } from '../util/local-io.js';
import { decodeJournal, encodeLine, salvageJournal } from './_lines.js';
import { JOURNAL_FORMAT_VERSION, type JournalRecord } from './records.js';
import { RunState, type StateSnapshot } from './run-state.js';
import { suspectIntents } from './salvage.js';
import type { OpenStoreOptions, StateStore } from './store.js';

const NEWLINE = Buffer.from('\n');

/** Files of the JSON-lines backend, inside the run directory. */
export function statePaths(dir: string) {
  const stateDir = join(dir, 'state');
  return {
    stateDir,
    journal: join(stateDir, 'journal.jsonl'),
    snapshot: join(stateDir, 'snapshot.json'),
  };
}

export interface ReplayResult {
  state: RunState;
  /** Generation of the journal file that continues the snapshot (0 for a fresh directory). */
  generation: number;
  /** Byte length of the journal's valid prefix; the rest is a torn tail (or salvaged corruption). */
  validBytes: number;
  /** The journal exists but belongs to an older generation than the snapshot (a crash mid-compaction). */
  staleJournal: boolean;
  /** Bytes dropped from the journal's end (torn tail, or corruption when salvaging). */
  droppedBytes: number;
  journalExists: boolean;
  /**
   * `salvage` of a damaged journal: the lines passed over (1-based) and the journal without them, which
   * `openFileStore` puts in place of the damaged one (kept beside it).
   */
  salvaged?: { skippedLines: number[]; journal: Buffer; unknown: string[] };
  /** The bytes dropped from the journal's end (a torn or damaged last line). */
  droppedTail?: Buffer;
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Rebuild the state from snapshot + journal. A torn last line is ignored; damage before it is refused with
 * E_JOURNAL_CORRUPT (or, with `salvage`, the longest valid prefix is kept). Read-only: never writes.
 */
export async function replay(dir: string, options: { salvage?: boolean } = {}): Promise<ReplayResult> {
  const paths = statePaths(dir);
  const snapshotBytes = await readIfExists(paths.snapshot);
  let state = new RunState();
  let snapshotGeneration = 0;
  if (snapshotBytes) {
    let snapshot: StateSnapshot;
    try {
      snapshot = JSON.parse(snapshotBytes.toString('utf8')) as StateSnapshot;
    } catch (cause) {
      throw new BatchError(
        'E_JOURNAL_CORRUPT',
        `${paths.snapshot} is not valid JSON: the state snapshot is damaged`,
        {
          cause,
        },
      );
    }
    if (snapshot.v !== 1) {
      throw new BatchError('E_STATE', `${paths.snapshot} has format v${snapshot.v}; this flf2v reads v1`);
    }
    state = RunState.fromSnapshot(snapshot);
    snapshotGeneration = snapshot.generation;
  }
  const journal = await readIfExists(paths.journal);
  if (!journal) {
    return {
      state,
      generation: snapshotGeneration,
      validBytes: 0,
      staleJournal: false,
      droppedBytes: 0,
      journalExists: false,
    };
  }
  // Records are applied as they are decoded (no half-million-element array); the first one must be the
  // header, which says whether the journal continues the snapshot or is stale (a crash mid-compaction).
  let generation = snapshotGeneration;
  let staleJournal = false;
  let seen = 0;
  let headerLost = false;
  const apply = (record: JournalRecord) => {
    if (seen++ === 0 && record.t !== 'header' && options.salvage) {
      headerLost = true; // a salvage writes a new one: the journal continues the snapshot, if any
    } else if (seen === 1) {
      if (record.t !== 'header') {
        throw new BatchError('E_JOURNAL_CORRUPT', `${paths.journal} does not start with a header record`);
      }
      if (record.v > JOURNAL_FORMAT_VERSION) {
        throw new BatchError(
          'E_STATE',
          `${paths.journal} has format v${record.v}; this flf2v reads v${JOURNAL_FORMAT_VERSION}`,
        );
      }
      generation = record.generation;
      if (generation > snapshotGeneration && snapshotBytes === undefined && generation > 0) {
        throw new BatchError(
          'E_JOURNAL_CORRUPT',
          `${paths.journal} continues snapshot generation ${generation}, but ${paths.snapshot} is missing`,
        );
      }
      staleJournal = generation < snapshotGeneration;
    }
    if (!staleJournal) state.apply(record);
  };
  const decoded = options.salvage ? salvageJournal(journal, apply) : decodeJournal(journal, apply);
  if (decoded.firstInvalidLine !== undefined && !decoded.tornTailOnly && !options.salvage) {
    throw new BatchError(
      'E_JOURNAL_CORRUPT',
      `${paths.journal} line ${decoded.firstInvalidLine}: ${decoded.reason}, and valid records follow it — the state journal is damaged. ` +
        'Nothing was sent. Keep a copy of the directory, then pass --salvage-state to keep every record that passes its checksum.',
    );
  }
  const salvaged = decoded.salvaged;
  if (salvaged && salvaged.skippedLines.length > 0) {
    const lines = salvaged.kept.length + salvaged.skippedLines.length;
    // A torn last line alone is no damage: cut off as always.
    if (salvaged.skippedLines.some((n) => n < lines) || !journal.subarray(-1).equals(NEWLINE)) {
      return {
        state,
        generation: staleJournal ? snapshotGeneration : generation,
        validBytes: decoded.validBytes,
        staleJournal,
        droppedBytes: journal.length - decoded.validBytes,
        journalExists: true,
        salvaged: salvagedJournal(journal, salvaged, state, headerLost ? generation : undefined),
      };
    }
  }
  return {
    state,
    generation: staleJournal ? snapshotGeneration : generation,
    validBytes: decoded.validBytes,
    staleJournal,
    droppedBytes: journal.length - decoded.validBytes,
    journalExists: true,
    ...(decoded.validBytes < journal.length ? { droppedTail: journal.subarray(decoded.validBytes) } : {}),
  };
}

/**
 * The journal a salvage puts in place of a damaged one: a header when the damaged line was the header (for
 * `generation`), the lines that pass their checksum, and an `unknown` for each task a damaged line may have been
 * the intent of (`suspectIntents`), applied to `state` too.
 */
function salvagedJournal(
  journal: Buffer,
  s: NonNullable<ReturnType<typeof salvageJournal>['salvaged']>,
  state: RunState,
  headerFor: number | undefined,
): NonNullable<ReplayResult['salvaged']> {
  const parts = s.kept.map(([a, b]) => journal.subarray(a, b));
  if (headerFor !== undefined) {
    const header = headerRecord(state, headerFor);
    state.apply(header);
    parts.unshift(Buffer.from(encodeLine(header)));
  }
  const added = suspectIntents(journal, s.skipped, state, new Date().toISOString());
  for (const record of added) state.apply(record);
  for (const record of added) parts.push(Buffer.from(encodeLine(record)));
  return {
    skippedLines: s.skippedLines,
    journal: Buffer.concat(parts),
    unknown: added.map((r) => state.tasks.get(r.key)?.id ?? r.key),
  };
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The JSON-lines journal with group commit. Appends are applied to the state at once and written in batches:
 * one write + fdatasync per batch, however many records (and durable waiters) it carries. A durable append
 * starts a commit immediately; others wait up to `groupWindowMs` to share one.
 */
class FileStore implements StateStore {
  private buffer: string[] = [];
  private appendedSeq = 0;
  private durableSeq = 0;
  private waiters: Waiter[] = [];
  private loop?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private failed?: unknown;
  private compacting?: Promise<void>;

  constructor(
    readonly state: RunState,
    private handle: FileHandle,
    private readonly dir: string,
    private generation: number,
    private bytes: number,
    private readonly compactBytes: number,
    private readonly groupWindowMs: number,
  ) {}

  append(record: JournalRecord): void {
    if (this.failed) throw this.failed;
    this.state.apply(record);
    this.buffer.push(encodeLine(record));
    this.appendedSeq++;
    if (!this.timer && !this.loop) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch(() => {});
      }, this.groupWindowMs);
    }
  }

  appendDurable(record: JournalRecord): Promise<void> {
    try {
      this.append(record);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.flush();
  }

  flush(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.durableSeq >= this.appendedSeq) return Promise.resolve();
    const seq = this.appendedSeq;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
    if (!this.loop && !this.compacting) this.loop = this.commitLoop();
    return done;
  }

  private async commitLoop(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    try {
      while (this.buffer.length > 0) {
        const chunk = this.buffer.join('');
        const seq = this.appendedSeq;
        this.buffer = [];
        await this.handle.write(chunk);
        await this.handle.datasync();
        this.bytes += Buffer.byteLength(chunk);
        this.durableSeq = seq;
        this.waiters = this.waiters.filter((w) => {
          if (w.seq > seq) return true;
          w.resolve();
          return false;
        });
      }
    } catch (error) {
      // A journal we cannot write is a journal we cannot trust: stop everything that depends on it.
      this.failed =
        localIoFailure(`cannot write the state journal in ${this.dir}`, error) ??
        new BatchError('E_STATE', `cannot write the state journal in ${this.dir}: ${String(error)}`, {
          cause: error,
        });
      for (const w of this.waiters) w.reject(this.failed);
      this.waiters = [];
    } finally {
      this.loop = undefined;
    }
    if (!this.failed && this.bytes > this.compactBytes && !this.compacting)
      void this.compact().catch(() => {});
  }

  compact(): Promise<void> {
    this.compacting ??= this.doCompact().finally(() => {
      this.compacting = undefined;
      if (this.buffer.length > 0 || this.waiters.length > 0) this.loop ??= this.commitLoop();
    });
    return this.compacting;
  }

  private async doCompact(): Promise<void> {
    if (this.buffer.length > 0) this.loop ??= this.commitLoop();
    while (this.loop) await this.loop;
    if (this.failed) throw this.failed;
    const paths = statePaths(this.dir);
    const next = this.generation + 1;
    // The state already holds records still in the buffer; they land in the snapshot AND the new journal,
    // which is harmless because applying a record twice equals applying it once.
    await writeFileAtomic(paths.snapshot, JSON.stringify(this.state.toSnapshot(next)));
    const header = encodeLine(headerRecord(this.state, next));
    const tmp = `${paths.journal}.tmp`;
    const fresh = await open(tmp, 'w');
    await fresh.write(header);
    await fresh.sync();
    await fresh.close();
    await rename(tmp, paths.journal);
    await fsyncDir(paths.stateDir);
    await this.handle.close();
    this.handle = await open(paths.journal, 'a');
    this.generation = next;
    this.bytes = Buffer.byteLength(header);
  }

  async close(): Promise<void> {
    try {
      await this.flush();
      while (this.compacting) await this.compacting;
    } finally {
      if (this.timer) clearTimeout(this.timer);
      await this.handle.close();
    }
  }
}

function headerRecord(state: RunState, generation: number): JournalRecord {
  const h = state.header;
  return {
    t: 'header',
    v: JOURNAL_FORMAT_VERSION,
    generation,
    tool: h?.tool ?? 'flf2v',
    job: h?.job ?? '',
    manifestHash: h?.manifestHash ?? '',
    createdAt: h?.createdAt ?? new Date().toISOString(),
  };
}

/**
 * Open (or create) the state of a run directory for writing. The caller must hold the directory's lock.
 * A torn tail is cut off before anything new is appended, so it can never end up in the middle.
 */
export async function openFileStore(dir: string, options: OpenStoreOptions = {}): Promise<StateStore> {
  const paths = statePaths(dir);
  await mkdir(paths.stateDir, { recursive: true });
  const replayed = await replay(dir, { salvage: options.salvage });
  const { state, generation } = replayed;
  if (!replayed.journalExists || replayed.staleJournal || replayed.validBytes === 0) {
    if (!state.header) {
      if (!options.create) throw new BatchError('E_STATE', `${dir} holds no flf2v run state`);
      state.apply({
        t: 'header',
        v: JOURNAL_FORMAT_VERSION,
        generation,
        ...options.create,
        createdAt: new Date().toISOString(),
      });
    }
    const header = encodeLine(headerRecord(state, generation));
    await writeFileAtomic(paths.journal, header);
  } else if (replayed.salvaged) {
    // The damaged journal stays beside its replacement: salvage throws nothing away for good.
    const keptAt = `${paths.journal}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await copyFile(paths.journal, keptAt);
    await writeFileAtomic(paths.journal, replayed.salvaged.journal);
    options.onSalvaged?.({
      skippedLines: replayed.salvaged.skippedLines,
      keptAt,
      unknown: replayed.salvaged.unknown,
    });
  } else if (replayed.droppedBytes > 0) {
    await truncate(paths.journal, replayed.validBytes);
  }
  const handle = await open(paths.journal, 'a');
  const { size } = await handle.stat();
  const store = new FileStore(
    state,
    handle,
    dir,
    generation,
    size,
    options.compactBytes ?? 64 * 1024 * 1024,
    options.groupWindowMs ?? 25,
  );
  // A dropped last line that was written whole (it ends its line) and fails its check may have been an intent
  // whose POST left; one cut short by a crash was never made durable, so its POST never left.
  const tail = replayed.droppedTail;
  if (tail && tail[tail.length - 1] === 10) {
    for (const r of suspectIntents(tail, [[0, tail.length]], state, new Date().toISOString()))
      store.append(r);
  }
  return store;
}
