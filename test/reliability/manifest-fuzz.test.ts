import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAMES, runCli, simulator, tempDir } from '../e2e/_helpers.js';
import { providerRequests, runEnv, size, testSeed } from './_support.js';

/**
 * Manifest fuzz: start from a valid job (a YAML job file with an inline task and a CSV of rows, or the CSV on
 * its own), break it in one to three independent ways, and run the real CLI on it. Every invalid manifest
 * must exit 2, send nothing to the simulator and leave no run directory behind.
 *
 * Each mutation is invalid on its own and touches its own row or key, so any combination is still invalid
 * (the property is about the CLI's reaction, not about which mistake wins).
 */

const FILE = 'test/reliability/manifest-fuzz.test.ts';
const RUNS = size(30, 200);
const COLUMNS = [
  'id',
  'image',
  'last_image',
  'prompt',
  'duration',
  'resolution',
  'number_of_videos',
  'need_expand_prompt',
];
const ROWS = 6;
const PAIRS = [
  ['frames/dawn.png', 'frames/noon.jpg'],
  ['frames/noon.jpg', 'frames/dusk.jpg'],
  ['frames/dusk.jpg', 'frames/night.png'],
  ['frames/night.png', 'frames/dawn.png'],
] as const;

interface Job {
  header: string[];
  rows: string[][];
  /** Lines of the YAML job file (unused for a bare CSV). */
  yaml: string[];
  /** Bytes appended to the CSV as they are (encoding damage). */
  csvTail?: Buffer;
}

function baseJob(): Job {
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const [a, b] = PAIRS[i % PAIRS.length]!;
    // No commas or quotes in the base rows: an unclosed quote then stays unclosed to the end of the file.
    return [`r${i + 1}`, a, b, `Shot ${i + 1} the light turns`, '5', '720p', '1', 'false'];
  });
  return {
    header: [...COLUMNS],
    rows,
    yaml: [
      'version: 1',
      'name: fuzz',
      'defaults:',
      '  resolution: 720p',
      'tasks:',
      '  - { id: y1, image: frames/dawn.png, last_image: frames/noon.jpg, prompt: The sun climbs, duration: 6 }',
      'tasks_csv: rows.csv',
    ],
  };
}

const quote = (cell: string) => (/[",\n\r]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
const csvText = (job: Job) => [job.header, ...job.rows].map((r) => r.map(quote).join(',')).join('\n') + '\n';

/** Replaced after quoting by a cell that opens a quote and never closes it. */
const UNCLOSED = '@@UNCLOSED@@';

/** A mutation: `row` is its own row (CSV kinds); `v` picks a variant. */
type Mutate = (job: Job, row: number, v: number) => void;
const pick = <T>(items: readonly T[], v: number): T => items[v % items.length]!;
const col = (job: Job, name: string) => job.header.indexOf(name);
function setCell(job: Job, row: number, name: string, value: string): void {
  const c = col(job, name);
  if (c >= 0) job.rows[row]![c] = value;
}

const CSV_MUTATIONS: Record<string, Mutate> = {
  duration: (j, r, v) => setCell(j, r, 'duration', pick(['7', '0', '-5', '5.5', 'five', '10', '4'], v)),
  resolution: (j, r, v) => setCell(j, r, 'resolution', pick(['480p', '4k', '720', '1080i', 'hd'], v)),
  videos: (j, r, v) => setCell(j, r, 'number_of_videos', pick(['0', '5', '-1', 'two', '1.5'], v)),
  expand: (j, r, v) => setCell(j, r, 'need_expand_prompt', pick(['maybe', '2', 'yes please'], v)),
  prompt: (j, r, v) => setCell(j, r, 'prompt', pick(['', '   ', 'x'.repeat(2001), '长'.repeat(2001)], v)),
  // Unusable as a file name, or another row's id (a duplicate; the row it copies is never the target of
  // another id change).
  id: (j, r, v) =>
    setCell(
      j,
      r,
      'id',
      v % 4 === 3 ? j.rows[(r + 1) % ROWS]![col(j, 'id')]! : pick(['a/b', '..', 'x'.repeat(101)], v),
    ),
  'missing frame': (j, r, v) => setCell(j, r, pick(['image', 'last_image'], v), `frames/missing-${v}.png`),
  'not an image': (j, r, v) =>
    setCell(
      j,
      r,
      pick(['image', 'last_image'], v),
      pick(['frames/notes.png', 'frames/empty.jpg', 'frames'], v >> 1),
    ),
  'empty frame': (j, r, v) => setCell(j, r, pick(['image', 'last_image'], v), ''),
  'short row': (j, r, v) => {
    j.rows[r] = j.rows[r]!.slice(0, 1 + (v % 3));
  },
  'renamed column': (j, _r, v) => {
    const [from, to] = pick(
      [
        ['prompt', 'promt'],
        ['image', 'img'],
        ['last_image', 'lastimage'],
      ] as const,
      v,
    );
    const c = col(j, from);
    if (c >= 0) j.header[c] = to;
  },
  'missing column': (j, _r, v) => {
    const c = col(j, pick(['prompt', 'image', 'last_image'], v));
    if (c < 0) return;
    j.header.splice(c, 1);
    for (const row of j.rows) row.splice(c, 1);
  },
  'unclosed quote': (j, r) => setCell(j, r, 'prompt', UNCLOSED),
  'encoding damage': (j, _r, v) => {
    j.csvTail = pick([Buffer.from([0xff, 0xfe, 0x00, 0x62, 0x61, 0x64]), Buffer.from([0x80, 0x81, 0x0a])], v);
  },
};

const YAML_MUTATIONS: Record<string, (yaml: string[], v: number) => string[]> = {
  version: (y, v) =>
    y.map((l) => (l === 'version: 1' ? pick(['version: 2', 'version: one', '# no version'], v) : l)),
  name: (y, v) =>
    y.map((l) => (l === 'name: fuzz' ? pick(['name: ""', 'name: [a, b]', 'name: "a/b"'], v) : l)),
  tasks: (y, v) => {
    const i = y.indexOf('tasks:');
    return [
      ...y.slice(0, i),
      pick(['tasks: 5', 'tasks: "all of them"', 'tasks: { a: 1 }'], v),
      ...y.slice(i + 2),
    ];
  },
  'tasks_csv missing': (y) => y.map((l) => (l === 'tasks_csv: rows.csv' ? 'tasks_csv: nothere.csv' : l)),
  'unknown key': (y, v) => [...y, pick(['unknown_key: 1', 'task: []', 'limit: { submit_rpm: 5 }'], v)],
  defaults: (y, v) =>
    y.map((l) =>
      l === '  resolution: 720p' ? pick(['  resolution: 4k', '  duration: 7', '  prompt: ""'], v) : l,
    ),
  limits: (y, v) => [
    ...y,
    pick(['limits: { submit_rpm: 0 }', 'limits: { max_in_flight: -1 }', 'limits: { query_rpm: fast }'], v),
  ],
  syntax: (y, v) =>
    pick(
      [
        [...y, '\t- tabbed: yes'],
        y.map((l) => (l.startsWith('  - {') ? l.replace(/ }$/, '') : l)),
        [...y.slice(0, 2), '  bad: [', ...y.slice(2)],
      ],
      v,
    ),
  'task field': (y, v) =>
    y.map((l) =>
      l.startsWith('  - {')
        ? pick(
            [
              l.replace('duration: 6', 'duration: 7'),
              l.replace('last_image: frames/noon.jpg, ', ''),
              l.replace('image: frames/dawn.png', 'image: frames/gone.png'),
              l.replace('id: y1', 'id: r1'), // the CSV's first row has it too
            ],
            v,
          )
        : l,
    ),
  schedule: (y, v) => [
    ...y,
    pick(['schedule: "not a cron"', 'schedule: "61 * * * *"', 'timezone: Mars/Olympus'], v),
  ],
};

interface Case {
  bare: boolean;
  csv: { kind: string; v: number }[];
  yaml: { kind: string; v: number }[];
}

const variant = fc.nat({ max: 11 });
const csvKinds = fc.uniqueArray(fc.constantFrom(...Object.keys(CSV_MUTATIONS)), {
  minLength: 0,
  maxLength: 3,
});
const yamlKinds = fc.uniqueArray(fc.constantFrom(...Object.keys(YAML_MUTATIONS)), {
  minLength: 0,
  maxLength: 3,
});
const withVariants = (kinds: fc.Arbitrary<string[]>) =>
  kinds.chain((ks) => fc.tuple(...ks.map((kind) => variant.map((v) => ({ kind, v }))))).map((xs) => [...xs]);

const cases: fc.Arbitrary<Case> = fc
  .record({ bare: fc.boolean(), csv: withVariants(csvKinds), yaml: withVariants(yamlKinds) })
  .map((c) => ({ ...c, yaml: c.bare ? [] : c.yaml }))
  // At least one mutation, three at most.
  .filter((c) => c.csv.length + c.yaml.length >= 1 && c.csv.length + c.yaml.length <= 3);

async function writeCase(dir: string, c: Case): Promise<string> {
  await mkdir(join(dir, 'frames'), { recursive: true });
  for (const f of await readdir(FRAMES)) await copyFile(join(FRAMES, f), join(dir, 'frames', f));
  await writeFile(join(dir, 'frames', 'notes.png'), 'not an image\n');
  await writeFile(join(dir, 'frames', 'empty.jpg'), '');
  const job = baseJob();
  // Each CSV mutation gets a row of its own; the row after it (copied by `id`) is left alone.
  for (const [i, { kind, v }] of c.csv.entries()) CSV_MUTATIONS[kind]!(job, i * 2, v);
  const text = csvText(job).replace(UNCLOSED, '"never closed');
  const bytes = Buffer.concat([Buffer.from(text), job.csvTail ?? Buffer.alloc(0)]);
  await writeFile(join(dir, 'rows.csv'), bytes);
  if (c.bare) return join(dir, 'rows.csv');
  let yaml = job.yaml;
  for (const { kind, v } of c.yaml) yaml = YAML_MUTATIONS[kind]!(yaml, v);
  await writeFile(join(dir, 'job.yaml'), `${yaml.join('\n')}\n`);
  return join(dir, 'job.yaml');
}

describe('manifest fuzz: invalid manifests, real CLI', () => {
  it(`every invalid manifest exits 2 and sends nothing (${RUNS} runs)`, async () => {
    const seed = testSeed('manifest fuzz', FILE);
    const sim = await simulator({ seed });
    const root = await tempDir('flf2v-rel-fuzz-');

    // The unbroken job is valid, as a YAML job and as a bare CSV (else the property proves nothing).
    for (const bare of [false, true]) {
      const dir = join(root, `base-${bare}`);
      const manifest = await writeCase(dir, { bare, csv: [], yaml: [] });
      const ok = await runCli(['validate', manifest]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    }

    let n = 0;
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const dir = join(root, `case-${++n}`);
        const manifest = await writeCase(dir, c);
        const out = join(dir, 'out');
        const before = providerRequests(sim.ledger()).length;
        const res = await runCli(['run', manifest, '--out', out, '--quiet'], { env: runEnv(sim, dir) });
        const what = `${JSON.stringify(c)} → exit ${res.code}\n${res.stderr}`;
        expect(res.code, what).toBe(2);
        expect(providerRequests(sim.ledger()).length - before, what).toBe(0);
        expect(existsSync(out), `${what}: a run directory was created`).toBe(false);
        expect(res.stderr, what).not.toMatch(/internal error/);
        for (const m of [...c.csv, ...c.yaml]) seen[m.kind] = (seen[m.kind] ?? 0) + 1;
      }),
      { seed, numRuns: RUNS },
    );
    console.log(`[manifest fuzz] seed ${seed}: mutations used`, seen);
    expect(sim.ledger().requests.counts.submit ?? 0).toBe(0);
  });
});
