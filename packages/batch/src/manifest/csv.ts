import { createReadStream } from 'node:fs';
import { dirname, extname } from 'node:path';
import { finished } from 'node:stream/promises';
import { type CsvError, type Options, parse } from 'csv-parse';
import { type Defaults, type LoadContext, markInvalid, type TaskDraft } from './_context.js';
import { suggest } from './_suggest.js';
import { delimiterName, sniffDialect } from './delimiter.js';
import {
  chooseEncoding,
  decodeHead,
  decodeStream,
  type EncodingChoice,
  excerpt,
  scanFile,
} from './encoding.js';
import {
  isTaskField,
  type ManifestField,
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
  /** `tasks_csv:` as written and the directory it is relative to, so a Windows-style path can be found. */
  written?: { baseDir: string; text: string };
  /** `tasks_csv: { encoding }`, where it was written. */
  encoding?: { name: string; loc: SourceLocation };
  defaults: Defaults;
}

/** Undecodable bytes come out as U+FFFD: never let them reach a prompt unnoticed. */
const REPLACEMENT = '\uFFFD';

/** `skip`: a column already reported at the header (unknown, duplicated); `nameless`: an empty header cell. */
type Column = ManifestField | 'id' | 'skip' | 'nameless';

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
export async function readCsvTasks(ctx: LoadContext, given: CsvSource): Promise<void> {
  let source = given;
  let file = displayPath(source.path, ctx.cwd);
  ctx.sink.registerFile(file);
  const fileLoc: SourceLocation = source.namedAt ?? { file };
  const located = source.written
    ? await ctx.locator.locate(source.written.baseDir, source.written.text)
    : await ctx.locator.locate(ctx.cwd, source.path);
  if (!located.found) {
    const text =
      located.kind === 'not-a-file'
        ? `expected a CSV file, found a directory: ${file}`
        : `CSV file not found: ${file}${located.hint ? `; ${located.hint}` : ''}`;
    ctx.sink.error('file-missing', fileLoc, text);
    return;
  }
  if (located.note)
    ctx.sink.warn('path-spelling', fileLoc, `${source.written?.text ?? file}: ${located.note}`);
  if (located.path !== source.path) {
    source = { ...source, path: located.path };
    file = displayPath(source.path, ctx.cwd);
    ctx.sink.registerFile(file);
  }
  const scan = await scanFile(source.path);
  ctx.fileHashes.push(scan.sha256);
  const fromFlag = ctx.encoding !== undefined;
  const choice = await chooseEncoding(
    source.path,
    scan,
    ctx.encoding ?? source.encoding?.name,
    fromFlag ? '--encoding' : 'encoding:',
  );
  if (!choice.ok) {
    ctx.sink.error('encoding', fromFlag || !source.encoding ? { file } : source.encoding.loc, choice.message);
    return;
  }
  if (choice.warning) ctx.sink.warn('encoding', { file }, choice.warning);
  const tabFirst = ['.tsv', '.tab', '.txt'].includes(extname(source.path).toLowerCase());
  const dialect = sniffDialect(await decodeHead(scan.head, choice.encoding), tabFirst);

  const reader = new CsvRowReader(ctx, source, file, dialect.delimiter, guessNote(choice));
  let row = 0;
  /** A bug in reading a row must not pass for a broken file. */
  let bug: unknown;
  const options: Options<null, string[]> = {
    bom: true,
    delimiter: dialect.delimiter,
    // Excel's `sep=` line is not a row: the header after it is row 1, as Excel shows it.
    ...(dialect.sepLine ? { from_line: 2 } : {}),
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

/** When the encoding was guessed: how to say so, with the first row that has non-ASCII text. */
function guessNote(choice: Extract<EncodingChoice, { ok: true }>): ((cells: string[]) => string) | undefined {
  const guessed = choice.guessed;
  if (!guessed) return undefined;
  const why =
    guessed.how === 'only'
      ? 'the only encoding in which it reads as text'
      : "the likeliest by chardet's language statistics";
  return (cells) =>
    `not UTF-8: read as ${guessed.name}, ${why}; this row reads ${cells.map((cell) => `«${excerpt(cell, 80)}»`).join(', ')}. If that is wrong, give the encoding with --encoding or tasks_csv: { path, encoding }`;
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
    private readonly delimiter: string,
    /** Set while a guessed encoding has not yet been shown on a row. */
    private guessNote?: (cells: string[]) => string,
  ) {
    this.baseDir = dirname(source.path);
    this.fieldOptions = { baseDir: this.baseDir, fromText: true, rowLoc: true };
  }

  take(row: number, cells: string[]): void {
    if (cells.every((cell) => cell.trim() === '')) return;
    const nonAscii = this.guessNote ? cells.filter((cell) => /[^\x00-\x7f]/.test(cell)) : [];
    if (this.guessNote && nonAscii.length > 0) {
      this.ctx.sink.warn('encoding', { file: this.file, row }, this.guessNote(nonAscii));
      this.guessNote = undefined;
    }
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
      if (cells.length === 1 && /[^\p{L}\p{N}_ -]/u.test(name)) {
        text += `. The header is one cell when split at ${delimiterName(this.delimiter)}: if another character separates the columns, say which with a first line such as sep=;`;
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
