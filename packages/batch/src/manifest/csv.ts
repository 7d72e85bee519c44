import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import type { TaskField } from '@flf2v/core/rules';
import { type CsvError, type Options, parse } from 'csv-parse';
import { type Defaults, type LoadContext, markInvalid, type TaskDraft } from './_context.js';
import { suggest } from './_suggest.js';
import { chooseEncoding, decodeStream, scanFile } from './encoding.js';
import {
  isTaskField,
  missingFields,
  newDraft,
  type SetFieldOptions,
  setField,
  setId,
  TASK_KEYS,
  unknownKeyText,
} from './fields.js';
import { displayPath } from './location.js';
import type { SourceLocation } from './types.js';

export interface CsvSource {
  /** Absolute path. */
  path: string;
  /** Where a job file named this CSV (`tasks_csv:`), for problems about the file as a whole. */
  namedAt?: SourceLocation;
  /** `tasks_csv: { encoding }`, where it was written. */
  encoding?: { name: string; loc: SourceLocation };
  defaults: Defaults;
}

/** Undecodable bytes come out as U+FFFD: never let them reach a prompt unnoticed. */
const REPLACEMENT = '\uFFFD';

/** `skip`: a column already reported at the header (unknown, duplicated); `nameless`: an empty header cell. */
type Column = TaskField | 'id' | 'skip' | 'nameless';

interface Header {
  row: number;
  columns: Column[];
  idIndex: number;
}

function syntaxText(error: CsvError | undefined): string {
  switch (error?.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted cell starts in this row and its closing quote is never found';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a closing quote is followed by more text (inside a quoted cell, write a quote as "")';
    default:
      return error?.message ?? 'unreadable row';
  }
}

/**
 * Stream a CSV's rows into task drafts. Rows are counted as a spreadsheet shows them (the header is row 1; a
 * quoted cell spanning several lines is still one row), so every location matches what the user sees.
 */
export async function readCsvTasks(ctx: LoadContext, source: CsvSource): Promise<void> {
  const file = displayPath(source.path, ctx.cwd);
  ctx.sink.registerFile(file);
  const fileLoc: SourceLocation = source.namedAt ?? { file };
  try {
    if (!(await stat(source.path)).isFile()) {
      ctx.sink.error('file-missing', fileLoc, `expected a CSV file, found a directory: ${file}`);
      return;
    }
  } catch {
    ctx.sink.error('file-missing', fileLoc, `CSV file not found: ${file}`);
    return;
  }
  const scan = await scanFile(source.path);
  ctx.fileHashes.push(scan.sha256);
  const fromFlag = ctx.encoding !== undefined;
  const choice = await chooseEncoding(
    scan,
    ctx.encoding ?? source.encoding?.name,
    fromFlag ? '--encoding' : 'encoding:',
  );
  if (!choice.ok) {
    ctx.sink.error('encoding', fromFlag || !source.encoding ? { file } : source.encoding.loc, choice.message);
    return;
  }
  if (choice.warning) ctx.sink.warn('encoding', { file }, choice.warning);

  const reader = new CsvRowReader(ctx, source, file);
  let row = 0;
  /** A bug in reading a row must not pass for a broken file. */
  let bug: unknown;
  const options: Options<null, string[]> = {
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    // Rows are handled as they are parsed and never queued: their cells die young, which keeps memory flat.
    on_record: (cells: string[]) => {
      row++;
      try {
        reader.take(row, cells);
      } catch (error) {
        bug ??= error;
        throw error;
      }
      return null;
    },
    on_skip: (error) => {
      row++;
      ctx.sink.error('csv-syntax', { file, row }, syntaxText(error));
    },
  };
  const parser = parse(options as unknown as Options);
  const input = createReadStream(source.path);
  const decoded = input.pipe(await decodeStream(choice.encoding));
  input.on('error', (error) => parser.destroy(error));
  decoded.on('error', (error) => parser.destroy(error));
  decoded.pipe(parser);
  try {
    parser.resume();
    await finished(parser);
  } catch (error) {
    if (bug !== undefined) throw bug;
    const text = error instanceof Error ? error.message : String(error);
    ctx.sink.error('csv-syntax', { file, row: row + 1 }, `cannot read the rest of the file: ${text}`);
  }
  reader.finish();
}

/** Turns rows into drafts; the first non-empty row is the header. */
class CsvRowReader {
  private header: Header | undefined;
  private readonly baseDir: string;
  private readonly fieldOptions: SetFieldOptions;
  /** Required fields with neither a column nor a default: reported once, at the header. */
  private absent = new Set<string>();
  private rows = 0;

  constructor(
    private readonly ctx: LoadContext,
    private readonly source: CsvSource,
    private readonly file: string,
  ) {
    this.baseDir = dirname(source.path);
    this.fieldOptions = { baseDir: this.baseDir, fromText: true, rowLoc: true };
  }

  take(row: number, cells: string[]): void {
    if (cells.every((cell) => cell.trim() === '')) return;
    if (this.header === undefined) {
      this.header = this.readHeader(row, cells);
      return;
    }
    this.rows++;
    this.ctx.drafts.push(this.readRow(this.header, row, cells));
  }

  finish(): void {
    if (this.header === undefined) {
      this.ctx.sink.error(
        'missing-field',
        { file: this.file },
        `expected a header row of field names (${TASK_KEYS.join(', ')}), found an empty file`,
      );
    } else if (this.rows === 0) {
      this.ctx.sink.warn('no-tasks', { file: this.file }, 'the CSV has a header but no rows: nothing to do');
    }
  }

  private readHeader(row: number, cells: string[]): Header {
    const { sink } = this.ctx;
    const seen = new Map<string, number>();
    /** Known names that an unknown column looks like a misspelling of: not reported missing as well. */
    const meant = new Set<string>();
    const columns: Column[] = cells.map((raw, index) => {
      const name = raw.replace(/^\uFEFF/, '').trim();
      if (name === '') return 'nameless';
      const loc = { file: this.file, row, field: name };
      if (name.includes(REPLACEMENT)) {
        sink.error(
          'encoding',
          loc,
          `column name ${JSON.stringify(name)} contains undecodable bytes: the file is not in the encoding it was read as; give it with --encoding`,
        );
        return 'skip';
      }
      if (seen.has(name)) {
        sink.error(
          'duplicate-column',
          loc,
          `column ${name} appears twice (columns ${seen.get(name)! + 1} and ${index + 1})`,
        );
        return 'skip';
      }
      seen.set(name, index);
      if (name === 'id' || isTaskField(name)) return name as Column;
      const likely = suggest(name, TASK_KEYS);
      if (likely !== undefined) meant.add(likely);
      let text = unknownKeyText('column', name, TASK_KEYS);
      if (cells.length === 1 && /[;\t]/.test(name)) {
        text += '. The header looks separated by semicolons or tabs: save the sheet as CSV (comma-separated)';
      }
      sink.error('unknown-field', loc, text);
      return 'skip';
    });
    for (const field of missingFields(this.source.defaults)) {
      if (!seen.has(field)) {
        this.absent.add(field);
        if (!meant.has(field))
          sink.error(
            'missing-field',
            { file: this.file, row, field },
            `no column ${field}, and no default for it: every task needs one`,
          );
      }
    }
    return { row, columns, idIndex: columns.indexOf('id') };
  }

  private readRow(header: Header, row: number, cells: string[]): TaskDraft {
    const { ctx, file } = this;
    const draft = newDraft(ctx, this.source.defaults, { file, row });
    if (this.absent.size > 0) markInvalid(ctx, draft);
    const idCell = header.idIndex >= 0 ? cells[header.idIndex]?.trim() : undefined;
    if (idCell) {
      if (idCell.includes(REPLACEMENT)) this.undecodable(draft, row, 'id');
      else setId(ctx, draft, idCell, { file, row, field: 'id' });
    }
    const failed: string[] = [];
    let extra = 0;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      const column = header.columns[i] ?? 'nameless';
      if (column === 'id' || column === 'skip' || cell.trim() === '') continue;
      if (column === 'nameless') {
        extra++;
        continue;
      }
      const ok = cell.includes(REPLACEMENT)
        ? this.undecodable(draft, row, column)
        : setField(ctx, draft, column, cell, draft.source, this.fieldOptions);
      if (!ok) failed.push(column);
    }
    if (extra > 0) {
      ctx.sink.error(
        'extra-cells',
        { file, row },
        `expected cells only under named columns, found ${extra} more (the header in row ${header.row} names ${header.columns.filter((c) => c !== 'nameless').length} columns)`,
        draft.id,
      );
      markInvalid(ctx, draft);
    }
    for (const field of missingFields(draft, failed)) {
      if (this.absent.has(field)) continue;
      ctx.sink.error(
        'missing-field',
        { file, row, field },
        `expected a value for ${field} (required), found an empty cell and no default`,
        draft.id,
      );
      markInvalid(ctx, draft);
    }
    return draft;
  }

  private undecodable(draft: TaskDraft, row: number, field: string): false {
    this.ctx.sink.error(
      'encoding',
      { file: this.file, row, field },
      'contains undecodable bytes (shown as �): the file is not in the encoding it was read as; give it with --encoding or tasks_csv: { encoding }',
      draft.id,
    );
    markInvalid(this.ctx, draft);
    return false;
  }
}
