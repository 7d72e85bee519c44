import { suggest } from './_suggest.js';
import { TASK_KEYS } from './fields.js';

/**
 * Which character separates a sheet's columns. Excel writes `,` or `;` depending on the region's list
 * separator (`;` where the decimal separator is a comma: much of Europe), a tab for "Unicode Text", and honours
 * a first line `sep=;`. The header row names known fields, so the right delimiter is the one that splits it
 * into the most of them; no guess is needed about the data rows.
 */

export const DELIMITERS = [',', ';', '\t', '|'] as const;

export interface Dialect {
  delimiter: string;
  /** The file starts with Excel's `sep=…` line: it is a directive, not a row (Excel does not show it). */
  sepLine: boolean;
  /** How the delimiter was found, for messages. */
  how: 'sep-line' | 'header' | 'default';
}

const SEP_LINE = /^"?sep=(.)"?\s*$/i;

/** Name a delimiter for a message. */
export function delimiterName(delimiter: string): string {
  return delimiter === '\t' ? 'tab' : JSON.stringify(delimiter);
}

/**
 * The dialect of a sheet from its first decoded characters. `tabFirst`: a `.tsv`/`.txt` file, where a tab is
 * the likelier delimiter when the header does not decide.
 */
export function sniffDialect(head: string, tabFirst = false): Dialect {
  const lines = head.replace(/^\uFEFF/, '').split(/\r?\n/);
  const sep = SEP_LINE.exec(lines[0] ?? '');
  if (sep) return { delimiter: sep[1]!, sepLine: true, how: 'sep-line' };
  const order = tabFirst ? ['\t', ',', ';', '|'] : [...DELIMITERS];
  // The header is the first line with something in it (Excel sometimes leaves empty rows above).
  const header = lines.find((line) => line.replace(/[,;\t|"\s]/g, '') !== '');
  if (header === undefined) return { delimiter: order[0]!, sepLine: false, how: 'default' };
  let best = { delimiter: order[0]!, names: 0, cells: 1 };
  for (const delimiter of order) {
    const cells = header.split(delimiter).map((cell) => cell.replace(/^\s*"|"\s*$/g, '').trim());
    const names = cells.filter((cell) => cell !== '' && suggest(cell, TASK_KEYS) !== undefined).length;
    if (names > best.names || (names === best.names && best.names === 0 && cells.length > best.cells)) {
      best = { delimiter, names, cells: cells.length };
    }
  }
  return { delimiter: best.delimiter, sepLine: false, how: best.names > 0 ? 'header' : 'default' };
}
