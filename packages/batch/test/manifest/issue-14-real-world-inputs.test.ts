import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/manifest/types.js';
import { errors, lines, load, warnings } from './_helpers.js';

/**
 * The inputs of issue 14 as they were reported (fixtures/cases, copied from the report): each gives the right
 * result. The kinds they stand for are tested beyond these in names, frame-integrity, delimiters, encodings and
 * yaml-habits.
 */
const CASES = new URL('../fixtures/cases/', import.meta.url).pathname;

function loadCase(name: string, manifest: string): Promise<Plan> {
  return load(join(CASES, name), manifest);
}

const summary = (plan: Plan) =>
  plan.tasks.map((t) => ({ id: t.id, prompt: t.params.prompt, duration: t.params.duration }));

describe('issue 14: real-world inputs', () => {
  it('01 YAML merge keys work as YAML users expect, anchors held under x-', async () => {
    const merge = await loadCase('01-yaml-merge', 'job.yaml');
    expect(merge.problems).toEqual([]);
    expect(
      merge.tasks.map((t) => [t.id, t.params.duration, t.params.resolution, t.params.negative_prompt]),
    ).toEqual([
      ['first', 8, '1080p', 'blurry'],
      ['second', 8, '1080p', 'blurry'],
    ]);
    const merge2 = await loadCase('01-yaml-merge', 'job-merge2.yaml');
    expect(merge2.problems).toEqual([]);
    expect(summary(merge2)).toEqual([
      { id: 'first', prompt: 'Sunset fades to blue hour.', duration: 8 },
      { id: 'second', prompt: 'Sunset fades to blue hour.', duration: 8 },
    ]);
    const alias = await loadCase('01-yaml-merge', 'job-alias.yaml');
    expect(alias.problems).toEqual([]);
    expect(alias.tasks[1]!.last_image).toMatchObject({ display: 'frames/b.png' });
  });

  it('02 shapes are judged as displayed: the portrait pair passes, the mismatched pair is named rotated', async () => {
    const plan = await loadCase('02-exif-orientation', 'shots.csv');
    expect(errors(plan)).toEqual([]);
    expect(lines(warnings(plan))).toEqual([
      "aspect-mismatch: shots.csv row 3 (task mixed-pair): the two frames' aspect ratios differ too much: image frames/phone-portrait.jpg is 180×320 (0.56) as displayed (stored 320×180, turned 90° clockwise by its EXIF orientation 6; sent upright), last_image frames/landscape.png is 320×180 (1.78); expected their ratio within 0.8–1.25, got 0.32",
    ]);
  });

  it('03 sep= lines and semicolon sheets read as the table they are', async () => {
    for (const file of ['semicolon.csv', 'comma.csv', 'semicolon-nosep.csv']) {
      const plan = await loadCase('03-sep-line', file);
      expect(plan.problems, file).toEqual([]);
      expect(summary(plan).map((t) => [t.id, t.duration])).toEqual([
        ['shot1', 5],
        ['shot2', 6],
      ]);
    }
    const semicolon = await loadCase('03-sep-line', 'semicolon.csv');
    expect(semicolon.tasks[0]!.params.prompt).toBe('Sunset fades, slowly, to blue hour.');
  });

  it('04 a Windows-1252 sheet is read as Windows-1252 (never as GBK), showing the decoded row', async () => {
    const plan = await loadCase('04-cp1252-as-gbk', 'shots.csv');
    const utf8 = await loadCase('04-cp1252-as-gbk', 'shots.utf8.csv');
    expect(errors(plan)).toEqual([]);
    expect(lines(warnings(plan))).toEqual([
      'encoding: shots.csv row 2: not UTF-8: read as Windows-1252 (Western European), the only encoding in which it reads as text; this row reads «A naïve señor walks past the Müller bakery at dusk.». If that is wrong, give the encoding with --encoding or tasks_csv: { path, encoding }',
    ]);
    expect(summary(plan)).toEqual(summary(utf8));
    expect(plan.tasks.map((t) => t.key)).toEqual(utf8.tasks.map((t) => t.key));
  });

  it('06 UTF-16 "Unicode Text" reads as the tab-separated table it is, .txt included', async () => {
    for (const file of ['unicode-text.txt', 'unicode-text.csv']) {
      const plan = await loadCase('06-utf16-tab', file);
      expect(plan.problems, file).toEqual([]);
      expect(summary(plan)).toEqual([
        { id: 'shot1', prompt: '夕阳西下，天空转为蓝色。', duration: 5 },
        { id: 'shot2', prompt: 'Night turns to dawn, slowly.', duration: 6 },
      ]);
    }
  });

  it('07 Windows paths resolve, with a warning naming the normalised path', async () => {
    const plan = await loadCase('07-windows-paths', 'shots.csv');
    expect(errors(plan)).toEqual([]);
    expect(lines(warnings(plan))).toEqual([
      'path-spelling: shots.csv row 2, column image (task shot1): frames\\day 1\\a.png: written with Windows separators (\\): read as frames/day 1/a.png',
      'path-spelling: shots.csv row 2, column last_image (task shot1): frames\\day 1\\b.png: written with Windows separators (\\): read as frames/day 1/b.png',
      'path-spelling: shots.csv row 3, column image (task shot2): .\\frames\\day 1\\b.png: written with Windows separators (\\): read as frames/day 1/b.png',
    ]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['shot1', 'shot2']);
  });

  it('10 a PNG without its end is refused, naming the file, before anything is sent', async () => {
    const plan = await loadCase('10-truncated-frames', 'shots.csv');
    expect(lines(errors(plan))).toEqual([
      'frame-truncated: shots.csv row 2, column image (task half-png): frames/half.png: the file ends early: still copying? (the PNG stops inside its IDAT chunk; it has 69,239 bytes)',
    ]);
    expect(plan.tasks).toEqual([]);
  });

  it('11 ids and prompts are the text as written: 007, 0x1A, 1e3, a long scene code, 08', async () => {
    const plan = await loadCase('11-yaml-numeric-ids', 'job.yaml');
    expect(plan.problems).toEqual([]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['007', '0x1A', '1e3', '12345678901234567890', '08']);
    const noBignum = await loadCase('11-yaml-numeric-ids', 'job-no-bignum.yaml');
    expect(noBignum.tasks.map((t) => t.id)).toEqual(['007', '0x1A', '1e3', '08']);
    const csv = await loadCase('11-yaml-numeric-ids', 'same.csv');
    expect(csv.tasks.map((t) => t.id)).toEqual(['007']);
  });

  it('13 Windows device names are refused as ids', async () => {
    const plan = await loadCase('13-windows-reserved-ids', 'shots.csv');
    expect(errors(plan).map((p) => [p.kind, p.location.row])).toEqual([
      ['invalid-id', 2],
      ['invalid-id', 3],
      ['invalid-id', 4],
    ]);
    expect(errors(plan)[0]!.message).toContain('CON is one: on Windows a file named "CON.mp4" is the device');
    expect(plan.tasks).toEqual([]);
  });
});
