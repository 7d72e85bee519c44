import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { errors, frames, lines, load, testdir, warnings } from './_helpers.js';

const HEADER = 'id,image,last_image,prompt,duration';

describe('bare CSV', () => {
  it('reads a plain UTF-8 file with LF line ends, applying the built-in defaults', async () => {
    const dir = await testdir({
      ...frames(),
      'shots.csv': `${HEADER}\nsunrise,a.png,b.png,The sun rises,6\nsunset,b.png,c.png,The sun sets,\n`,
    });
    const plan = await load(dir, 'shots.csv');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.manifest.format).toBe('csv');
    expect(plan.job.name).toBe('shots');
    expect(plan.tasks.map((t) => [t.id, t.params.duration, t.source.row])).toEqual([
      ['sunrise', 6, 2],
      ['sunset', 5, 3],
    ]);
    expect(plan.tasks[1]!.params).toEqual({
      selected_model: 'Viduq2-pro-FLF2V-fast',
      resolution: '720p',
      duration: 5,
      number_of_videos: 1,
      prompt: 'The sun sets',
    });
  });

  it('reads what Excel saves: BOM, CRLF, quoted multi-line cells, commas and quotes, Chinese', async () => {
    const csv = [
      'id,image,last_image,prompt,negative_prompt',
      'one,a.png,b.png,"Line one,\r\nline two with ""quotes""",blurry',
      'two,b.png,c.png,小狗起身轻嗅，镜头缓慢推进,',
      '',
    ].join('\r\n');
    const dir = await testdir({ ...frames(), 'excel.csv': `\uFEFF${csv}` });
    const plan = await load(dir, 'excel.csv');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['one', 'two']); // the BOM is not part of "id"
    expect(plan.tasks[0]!.params.prompt).toBe('Line one,\r\nline two with "quotes"');
    expect(plan.tasks[0]!.params.negative_prompt).toBe('blurry');
    expect(plan.tasks[1]!.params.prompt).toBe('小狗起身轻嗅，镜头缓慢推进');
    expect(plan.tasks[1]!.params.negative_prompt).toBeUndefined();
  });

  it('counts rows as a spreadsheet does, even after multi-line cells', async () => {
    const dir = await testdir({
      ...frames(),
      'rows.csv': [
        HEADER,
        'r2,a.png,b.png,"three\nline\nprompt",5',
        'r3,a.png,b.png,"two\r\nlines",5',
        'r4,a.png,b.png,fine,7',
      ].join('\r\n'),
    });
    const plan = await load(dir, 'rows.csv');
    expect(lines(errors(plan))).toEqual([
      'invalid-value: rows.csv row 4, column duration (task r4): expected 5, 6 or 8, got "7"',
    ]);
    expect(errors(plan)[0]!.location).toEqual({ file: 'rows.csv', row: 4, field: 'duration' });
    expect(errors(plan)[0]!.taskId).toBe('r4');
  });

  it('ignores empty rows (Excel often saves ",,,,") and trailing empty lines', async () => {
    const dir = await testdir({
      ...frames(),
      'gaps.csv': `${HEADER}\r\n,,,,\r\nx,a.png,b.png,p,5\r\n\r\n,,,,\r\n\r\n\r\n`,
    });
    const plan = await load(dir, 'gaps.csv');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.tasks.map((t) => [t.id, t.source.row])).toEqual([['x', 3]]);
  });

  it('reads CSV cells as text: "6" is 6, "yes" is true, " 1080P " is 1080p', async () => {
    const dir = await testdir({
      ...frames(),
      'text.csv':
        'image,last_image,prompt,duration,number_of_videos,need_expand_prompt,resolution\na.png,b.png,p,6,3,yes, 1080P \n',
    });
    const plan = await load(dir, 'text.csv');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.tasks[0]!.params).toMatchObject({
      duration: 6,
      number_of_videos: 3,
      need_expand_prompt: true,
      resolution: '1080p',
    });
  });

  it('reports unknown columns once, at the header, with a suggestion', async () => {
    const dir = await testdir({
      ...frames(),
      'typo.csv': 'id,image,last_image,Prompt,durration\nx,a.png,b.png,p,5\ny,a.png,c.png,q,6\n',
    });
    const plan = await load(dir, 'typo.csv');
    expect(lines(errors(plan))).toEqual([
      'unknown-field: typo.csv row 1, column Prompt: unknown column "Prompt" (did you mean "prompt"?); expected one of: id, selected_model, image, last_image, prompt, negative_prompt, resolution, aspect_ratio, duration, number_of_videos, need_expand_prompt, fit_last, take',
      'unknown-field: typo.csv row 1, column durration: unknown column "durration" (did you mean "duration"?); expected one of: id, selected_model, image, last_image, prompt, negative_prompt, resolution, aspect_ratio, duration, number_of_videos, need_expand_prompt, fit_last, take',
    ]);
    expect(plan.tasks).toEqual([]);
  });

  it('reports a required column that is absent once, and an empty required cell per row', async () => {
    const dir = await testdir({
      ...frames(),
      'noprompt.csv': 'id,image,last_image\nx,a.png,b.png\n',
      'empty.csv': 'id,image,last_image,prompt\nx,a.png,,p\ny,a.png,b.png,   \n',
    });
    expect(lines(errors(await load(dir, 'noprompt.csv')))).toEqual([
      'missing-field: noprompt.csv row 1, column prompt: no column prompt, and no default for it: every task needs one',
    ]);
    expect(lines(errors(await load(dir, 'empty.csv')))).toEqual([
      'missing-field: empty.csv row 2, column last_image (task x): expected a value for last_image (required), found an empty cell and no default',
      'missing-field: empty.csv row 3, column prompt (task y): expected a value for prompt (required), found an empty cell and no default',
    ]);
  });

  it('reports cells outside the named columns and duplicated columns', async () => {
    const dir = await testdir({
      ...frames(),
      'extra.csv': 'id,image,last_image,prompt,,prompt\nx,a.png,b.png,p,oops,q\ny,a.png,b.png,p,,,\n',
    });
    const plan = await load(dir, 'extra.csv');
    expect(lines(errors(plan))).toEqual([
      'duplicate-column: extra.csv row 1, column prompt: column prompt appears twice (columns 4 and 6)',
      'extra-cells: extra.csv row 2 (task x): expected cells only under named columns, found 1 more (the header in row 1 names 5 columns)',
    ]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['y']);
  });

  it('reports a quote that is never closed at the row where it opens', async () => {
    const dir = await testdir({
      ...frames(),
      'quote.csv': `${HEADER}\nx,a.png,b.png,fine,5\ny,a.png,b.png,"never closed,5\nz,a.png,b.png,lost,5\n`,
    });
    const plan = await load(dir, 'quote.csv');
    expect(lines(errors(plan))).toEqual([
      'csv-syntax: quote.csv row 3: a quoted cell starts in this row and its closing quote is never found',
    ]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['x']);
  });

  it('says so when a CSV is only a header, and when it is empty', async () => {
    const dir = await testdir({ 'header.csv': `${HEADER}\r\n`, 'empty.csv': '\r\n\r\n' });
    const header = await load(dir, 'header.csv');
    expect(errors(header)).toEqual([]);
    expect(lines(warnings(header))).toEqual([
      'no-tasks: header.csv: the CSV has a header but no rows: nothing to do',
    ]);
    expect(lines(errors(await load(dir, 'empty.csv')))).toEqual([
      'missing-field: empty.csv: expected a header row of field names (id, selected_model, image, last_image, prompt, negative_prompt, resolution, aspect_ratio, duration, number_of_videos, need_expand_prompt, fit_last, take), found an empty file',
    ]);
  });

  it('says how to name the delimiter when the header tells none', async () => {
    const dir = await testdir({ 'odd.csv': 'Bild#Ende#Text\nx#a.png#b.png\n' });
    const [problem] = errors(await load(dir, 'odd.csv'));
    expect(problem!.message).toContain(
      'if another character separates the columns, say which with a first line such as sep=;',
    );
  });
});

describe('CSV encodings', () => {
  const chinese = `${HEADER}\r\n狗,a.png,b.png,小狗起身轻嗅，镜头缓慢推进,5\r\n`;

  it('detects GBK (Chinese Excel) and says it did', async () => {
    const dir = await testdir({ ...frames(), 'gbk.csv': iconv.encode(chinese, 'gbk') });
    const plan = await load(dir, 'gbk.csv');
    expect(errors(plan)).toEqual([]);
    expect(lines(warnings(plan))).toEqual([
      "encoding: gbk.csv row 2: not UTF-8: read as GBK (Simplified Chinese), the likeliest by chardet's language statistics; this row reads «狗», «小狗起身轻嗅，镜头缓慢推进». If that is wrong, give the encoding with --encoding or tasks_csv: { path, encoding }",
    ]);
    expect(plan.tasks[0]!.id).toBe('狗');
    expect(plan.tasks[0]!.params.prompt).toBe('小狗起身轻嗅，镜头缓慢推进');
  });

  it('reads GBK silently when the encoding is given', async () => {
    const dir = await testdir({ ...frames(), 'gbk.csv': iconv.encode(chinese, 'gbk') });
    const plan = await load(dir, 'gbk.csv', { encoding: 'gbk' });
    expect(plan.problems).toEqual([]);
    expect(plan.tasks[0]!.params.prompt).toBe('小狗起身轻嗅，镜头缓慢推进');
  });

  it('never turns a prompt into mojibake silently: undecodable bytes are an error at their cell', async () => {
    const dir = await testdir({ ...frames(), 'gbk.csv': iconv.encode(chinese, 'gbk') });
    const plan = await load(dir, 'gbk.csv', { encoding: 'utf-8' });
    expect(lines(errors(plan))).toEqual([
      'encoding: gbk.csv row 2, column id: contains undecodable bytes (shown as �): the file is not in the encoding it was read as; give it with --encoding or tasks_csv: { encoding }',
      'encoding: gbk.csv row 2, column prompt: contains undecodable bytes (shown as �): the file is not in the encoding it was read as; give it with --encoding or tasks_csv: { encoding }',
    ]);
    expect(plan.tasks).toEqual([]);
  });

  it('refuses to read a UTF-8 file as GBK on request: that would send mojibake', async () => {
    const dir = await testdir({ ...frames(), 'utf8.csv': chinese });
    const plan = await load(dir, 'utf8.csv', { encoding: 'gbk' });
    expect(lines(errors(plan))).toEqual([
      `encoding: utf8.csv: the file is UTF-8, but is to be read as gbk (--encoding): line 2 would read «${iconv.decode(Buffer.from('狗,a.png,b.png,小狗起身轻嗅，镜头缓慢推进,5'), 'gbk')}» instead of «狗,a.png,b.png,小狗起身轻嗅，镜头缓慢推进,5». Drop the encoding`,
    ]);
    expect(plan.tasks).toEqual([]);
  });

  it('rejects an unknown encoding name', async () => {
    const dir = await testdir({ ...frames(), 'x.csv': chinese });
    expect(lines(errors(await load(dir, 'x.csv', { encoding: 'klingon' })))).toEqual([
      'encoding: x.csv: unknown encoding "klingon"; expected a name such as utf-8, windows-1252, gbk, big5, shift_jis or utf-16le',
    ]);
  });

  it('reads UTF-16 with a BOM (Excel "Unicode Text")', async () => {
    const dir = await testdir({
      ...frames(),
      'u16.csv': iconv.encode(chinese, 'utf-16le', { addBOM: true }),
    });
    const plan = await load(dir, 'u16.csv');
    expect(plan.problems).toEqual([]);
    expect(plan.tasks[0]!.params.prompt).toBe('小狗起身轻嗅，镜头缓慢推进');
  });
});
