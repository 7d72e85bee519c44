import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { csvRow, errors, frames, lines, load, png, testdir } from './_helpers.js';

/**
 * At library level: any manifest built only from valid values is accepted (whatever its prompts contain, in
 * CSV or YAML, with or without BOM and CRLF), and the same manifest with any one mistake is rejected.
 */

const FRAMES = ['a.png', 'b.png', 'c.png', 'd.jpg'];
const FAULTS = [
  'duration',
  'resolution',
  'number_of_videos',
  'need_expand_prompt',
  'empty-prompt',
  'long-prompt',
  'missing-frame',
  'not-an-image',
  'thin-frame',
  'unknown-field',
  'unsafe-id',
  'duplicate-id',
  'url-scheme',
] as const;
type Fault = (typeof FAULTS)[number];

/** Any text a person might type (Chinese, quotes, commas, newlines, emoji), but not only spaces. */
const text = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((s) => s.trim() !== '' && !s.includes('\uFFFD'));

const task = fc.record({
  image: fc.constantFrom(...FRAMES),
  last_image: fc.constantFrom(...FRAMES),
  prompt: text,
  negative_prompt: fc.option(text, { nil: undefined }),
  duration: fc.option(fc.constantFrom(5, 6, 8), { nil: undefined }),
  resolution: fc.option(fc.constantFrom('720p', '1080p'), { nil: undefined }),
  number_of_videos: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  need_expand_prompt: fc.option(fc.boolean(), { nil: undefined }),
});
type Task = Record<string, string | number | boolean | undefined>;

const manifest = fc.record({
  format: fc.constantFrom('csv', 'yaml'),
  tasks: fc.array(task, { minLength: 2, maxLength: 6 }),
  named: fc.boolean(),
  bom: fc.boolean(),
  crlf: fc.boolean(),
});

function withFault(tasks: Task[], fault: Fault, at: number): Task[] {
  const out = tasks.map((t) => ({ ...t }));
  const i = at % out.length;
  const t = out[i]!;
  switch (fault) {
    case 'duration':
      t.duration = 7;
      break;
    case 'resolution':
      t.resolution = '4k';
      break;
    case 'number_of_videos':
      t.number_of_videos = 5;
      break;
    case 'need_expand_prompt':
      t.need_expand_prompt = 'maybe';
      break;
    case 'empty-prompt':
      t.prompt = '';
      break;
    case 'long-prompt':
      t.prompt = '长'.repeat(2001);
      break;
    case 'missing-frame':
      t.image = 'gone.png';
      break;
    case 'not-an-image':
      t.last_image = 'notes.png';
      break;
    case 'thin-frame':
      t.image = 'thin.png';
      break;
    case 'unknown-field':
      t.promt = 'typo';
      break;
    case 'unsafe-id':
      t.id = 'a/b';
      break;
    case 'url-scheme':
      t.image = 'ftp://example.test/a.png';
      break;
    case 'duplicate-id': {
      const other = out[(i + 1) % out.length]!;
      t.id = 'same';
      other.id = 'same';
      t.prompt = `${String(t.prompt)} (one)`; // not identical: identical tasks are folded, not rejected
      other.prompt = `${String(other.prompt)} (two)`;
      break;
    }
  }
  return out;
}

function render(format: string, tasks: Task[], bom: boolean, crlf: boolean): { name: string; body: string } {
  if (format === 'yaml') {
    const clean = tasks.map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)));
    return { name: 'job.yaml', body: stringify({ version: 1, tasks: clean }) };
  }
  const columns = [
    ...new Set(['id', 'image', 'last_image', 'prompt', ...tasks.flatMap((t) => Object.keys(t))]),
  ];
  const eol = crlf ? '\r\n' : '\n';
  const rows = [
    columns.join(','),
    ...tasks.map((t) => csvRow(columns.map((c) => t[c] as string | undefined))),
  ];
  return { name: 'job.csv', body: `${bom ? '\uFEFF' : ''}${rows.join(eol)}${eol}` };
}

function named(tasks: Task[], yes: boolean): Task[] {
  return tasks.map((t, i) => (yes ? { id: `t${i}`, ...t } : { ...t }));
}

describe('manifest property', () => {
  it('accepts every manifest made of valid values, and rejects it with any one mistake', async () => {
    const dir = await testdir({
      ...frames(),
      'notes.png': 'not an image',
      'thin.png': png(10, 60),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        manifest,
        fc.option(fc.record({ fault: fc.constantFrom(...FAULTS), at: fc.nat() }), { nil: undefined }),
        async (m, broken) => {
          const sub = `run-${run++}`;
          let tasks = named(m.tasks as Task[], m.named || broken?.fault === 'duplicate-id');
          if (broken) tasks = withFault(tasks, broken.fault, broken.at);
          const { name, body } = render(m.format, tasks, m.bom, m.crlf);
          await writeFile(join(dir, `${sub}-${name}`), body);
          const plan = await load(dir, `${sub}-${name}`);
          if (broken === undefined) {
            expect(lines(errors(plan))).toEqual([]);
            expect(plan.tasks.length + plan.summary.duplicateRows).toBe(tasks.length);
          } else {
            expect(errors(plan).length, `${broken.fault} in ${name}`).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
