import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { redactText } from '@flf2v/core/rules';
import { BatchError } from '../errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { renderHistoryHtml } from './history-html.js';
import { HISTORY_SCHEMA_VERSION, type HistoryEntry, type HistoryIndex } from './types.js';

export const HISTORY_FILES = { json: 'index.json', html: 'index.html' } as const;

/**
 * A job's run history: `index.json` (the record, versioned) and `index.html` (rendered from it) in the history
 * root. One scheduler owns a root at a time (it holds the root's scheduler lock), so the in-memory copy is the
 * truth and saves are simply serialized.
 */
export class History {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly root: string,
    private readonly index: HistoryIndex,
    private readonly secrets: string[],
  ) {}

  /**
   * Read the history (or start one). A damaged `index.json` is moved aside, not lost; a history written by a
   * newer flf2v is refused. Entries left `running` by a scheduler that died are marked `interrupted`.
   */
  static async open(
    root: string,
    job: { name: string; file: string },
    options: { secrets?: string[] } = {},
  ): Promise<{ history: History; notes: string[] }> {
    const path = join(root, HISTORY_FILES.json);
    const notes: string[] = [];
    let index: HistoryIndex = {
      schemaVersion: HISTORY_SCHEMA_VERSION,
      job: job.name,
      jobFile: job.file,
      updatedAt: new Date().toISOString(),
      runs: [],
    };
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text !== undefined) {
      const parsed = parseIndex(text);
      if (parsed === undefined) {
        const aside = `${path}.damaged-${Date.now()}`;
        await rename(path, aside);
        notes.push(`${path} was not a readable run history; moved it to ${aside} and started a new one`);
      } else if (parsed.schemaVersion > HISTORY_SCHEMA_VERSION) {
        throw new BatchError(
          'E_STATE',
          `${path} has schemaVersion ${parsed.schemaVersion}; this flf2v writes ${HISTORY_SCHEMA_VERSION}: use the newer flf2v, or another out:`,
        );
      } else {
        index = { ...parsed, job: job.name, jobFile: job.file };
        for (const entry of index.runs.filter((r) => r.state === 'running')) {
          entry.state = 'interrupted';
          entry.exitCode = 130;
          notes.push(`run ${entry.id} was left running by a scheduler that stopped; marked interrupted`);
        }
      }
    }
    return { history: new History(root, index, options.secrets ?? []), notes };
  }

  get runs(): readonly HistoryEntry[] {
    return this.index.runs;
  }

  /** The most recent firing that made a run directory. */
  lastRun(): HistoryEntry | undefined {
    return this.index.runs.findLast((r) => r.runDir !== undefined);
  }

  /** A firing id not used yet: the stamp itself, else `<stamp>-2`, `-3`… */
  newId(stamp: string): string {
    const used = new Set(this.index.runs.map((r) => r.id));
    if (!used.has(stamp)) return stamp;
    let n = 2;
    while (used.has(`${stamp}-${n}`)) n++;
    return `${stamp}-${n}`;
  }

  add(entry: HistoryEntry): HistoryEntry {
    this.index.runs.push(entry);
    return entry;
  }

  update(id: string, patch: Partial<HistoryEntry>): void {
    const entry = this.index.runs.find((r) => r.id === id);
    if (entry) Object.assign(entry, patch);
  }

  toJSON(): HistoryIndex {
    return this.index;
  }

  /** Write `index.json` and `index.html` (saves are applied in call order). */
  save(): Promise<void> {
    this.index.updatedAt = new Date().toISOString();
    const json = this.scrub(`${JSON.stringify(this.index, null, 2)}\n`);
    const html = this.scrub(renderHistoryHtml(this.index));
    const next = this.saving
      .catch(() => undefined)
      .then(async () => {
        // The HTML is derived from the JSON: write the record first.
        await writeFileAtomic(join(this.root, HISTORY_FILES.json), json, { durable: false });
        await writeFileAtomic(join(this.root, HISTORY_FILES.html), html, { durable: false });
      });
    this.saving = next;
    return next;
  }

  private scrub(text: string): string {
    return redactText(text, this.secrets);
  }
}

function parseIndex(text: string): HistoryIndex | undefined {
  try {
    const value = JSON.parse(text) as HistoryIndex;
    if (typeof value?.schemaVersion !== 'number' || !Array.isArray(value.runs)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}
