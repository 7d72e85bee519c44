import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { sniffDialect } from '../../src/manifest/delimiter.js';
import { errors, frames, lines, load, testdir } from './_helpers.js';

/** The same two tasks, the columns joined by `d`; prompts hold the other delimiters. */
function sheet(d: string, eol = '\r\n'): string {
  return [
    ['id', 'image', 'last_image', 'prompt', 'duration'],
    ['shot1', 'a.png', 'b.png', 'Sunset fades, slowly; to blue hour.', '5'],
    ['shot2', 'b.png', 'a.png', 'Night turns | to dawn.', '6'],
  ]
    .map((cells) => cells.map((c) => (c.includes(d) ? `"${c}"` : c)).join(d))
    .join(eol);
}

const EXPECTED = [
  ['shot1', 'Sunset fades, slowly; to blue hour.', 5],
  ['shot2', 'Night turns | to dawn.', 6],
];

describe('delimiters', () => {
  it('tells the delimiter from the header row: comma, semicolon, tab, pipe', async () => {
    for (const d of [',', ';', '\t', '|']) {
      const dir = await testdir({ ...frames(), 'm.csv': sheet(d) });
      const plan = await load(dir, 'm.csv');
      expect(plan.problems, JSON.stringify(d)).toEqual([]);
      expect(plan.tasks.map((t) => [t.id, t.params.prompt, t.params.duration])).toEqual(EXPECTED);
    }
  });

  it("honours Excel's sep= line, which is not a row: the header after it is row 1", async () => {
    for (const d of [',', ';', '\t', '|']) {
      for (const first of [`sep=${d}`, `"sep=${d}"`, `SEP=${d}`]) {
        const dir = await testdir({
          ...frames(),
          'm.csv': `${first}\r\n${sheet(d)}\r\nshot3${d}a.png${d}b.png${d}p${d}7\r\n`,
        });
        const plan = await load(dir, 'm.csv');
        expect(lines(errors(plan)), first).toEqual([
          'invalid-value: m.csv row 4, column duration (task shot3): expected 5, 6 or 8, got "7"',
        ]);
        expect(plan.tasks.map((t) => [t.id, t.params.prompt, t.params.duration])).toEqual(EXPECTED);
      }
    }
  });

  it('a sep= line wins over what the header would suggest', () => {
    expect(sniffDialect('sep=;\nid,image,last_image,prompt\n')).toEqual({
      delimiter: ';',
      sepLine: true,
      how: 'sep-line',
    });
    expect(sniffDialect('\uFEFFid;image;last_image;prompt\n')).toEqual({
      delimiter: ';',
      sepLine: false,
      how: 'header',
    });
    expect(sniffDialect('Id\tImage\tLast Image\tPrompt\n')).toMatchObject({ delimiter: '\t', how: 'header' });
    expect(sniffDialect('\n,,,\nprompt\n', true)).toEqual({ delimiter: '\t', sepLine: false, how: 'header' });
    expect(sniffDialect('Bild;Datei;Text\n')).toEqual({ delimiter: ';', sepLine: false, how: 'default' });
  });

  it('reads tab-delimited .tsv and .txt, and a European Excel sheet (semicolons, Windows-1252)', async () => {
    const european = `id;image;last_image;prompt\r\nété;a.png;b.png;"Crème brûlée, doucement; puis la nuit."\r\n`;
    const dir = await testdir({
      ...frames(),
      'm.tsv': sheet('\t', '\n'),
      'm.txt': sheet('\t'),
      'eu.csv': iconv.encode(european, 'windows-1252'),
    });
    for (const file of ['m.tsv', 'm.txt']) {
      const plan = await load(dir, file);
      expect(plan.problems).toEqual([]);
      expect(plan.tasks.map((t) => [t.id, t.params.prompt, t.params.duration])).toEqual(EXPECTED);
    }
    const eu = await load(dir, 'eu.csv');
    expect(errors(eu)).toEqual([]);
    expect(eu.tasks.map((t) => [t.id, t.params.prompt])).toEqual([
      ['été', 'Crème brûlée, doucement; puis la nuit.'],
    ]);
  });
});
