import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { errors, frames, lines, load, testdir } from './_helpers.js';

const FRAMES = 'image: a.png\n  last_image: b.png';
const INLINE = 'image: a.png, last_image: b.png';

describe('YAML merge keys and anchors', () => {
  it('merges a mapping into tasks and defaults; the mapping’s own keys win wherever they are written', async () => {
    const dir = await testdir({
      ...frames(),
      'j.yaml': `version: 1
x-common: &common
  negative_prompt: blurry
  duration: 8
  resolution: 1080p
.frames: &frames
  image: a.png
  last_image: b.png
defaults:
  <<: *frames
  prompt: from defaults
tasks:
  - id: first
    duration: 6
    <<: *common
  - <<: *common
    id: second
    resolution: 720p
`,
    });
    const plan = await load(dir, 'j.yaml');
    expect(plan.problems).toEqual([]);
    expect(
      plan.tasks.map((t) => [t.id, t.params.duration, t.params.resolution, t.params.negative_prompt]),
    ).toEqual([
      ['first', 6, '1080p', 'blurry'],
      ['second', 8, '720p', 'blurry'],
    ]);
    expect(plan.tasks[0]!.params.prompt).toBe('from defaults');
    expect(plan.tasks[0]!.image).toMatchObject({ display: 'a.png' });
  });

  it('merges a list of mappings, earlier ones first, and mappings that merge others', async () => {
    const dir = await testdir({
      ...frames(),
      'j.yaml': `version: 1
x-base: &base { image: a.png, last_image: b.png, prompt: from base }
x-a: &a { duration: 6, negative_prompt: from a }
x-b: &b { duration: 8, resolution: 1080p, <<: *base }
tasks:
  - { id: t, <<: [*a, *b] }
`,
    });
    const plan = await load(dir, 'j.yaml');
    expect(plan.problems).toEqual([]);
    expect(plan.tasks[0]!.params).toMatchObject({
      duration: 6,
      negative_prompt: 'from a',
      resolution: '1080p',
      prompt: 'from base',
    });
  });

  it('merges a whole earlier task into the next one (the task is the anchor)', async () => {
    const dir = await testdir({
      ...frames(),
      'j.yaml': `version: 1
tasks:
  - &base
    id: first
    image: a.png
    last_image: b.png
    prompt: Sunset fades to blue hour.
    duration: 8
  - <<: *base
    id: second
    image: b.png
    last_image: c.png
`,
    });
    const plan = await load(dir, 'j.yaml');
    expect(plan.problems).toEqual([]);
    expect(plan.tasks.map((t) => [t.id, t.params.prompt, t.params.duration])).toEqual([
      ['first', 'Sunset fades to blue hour.', 8],
      ['second', 'Sunset fades to blue hour.', 8],
    ]);
  });

  it('says where a merge key names something that is not a mapping', async () => {
    const dir = await testdir({
      ...frames(),
      'j.yaml': `version: 1\nx-n: &n 5\ntasks:\n  - { <<: *n, ${INLINE}, prompt: p }\n`,
    });
    expect(lines(errors(await load(dir, 'j.yaml')))).toEqual([
      'invalid-value: j.yaml:2:9: <<: expected a mapping to merge (<<: *anchor) or a list of them, got 5',
    ]);
  });

  it('ignores top-level x-… and .… keys (places for anchors), and nothing else', async () => {
    const dir = await testdir({
      ...frames(),
      'j.yaml': `version: 1\nx-notes: anything\n.hidden: { a: 1 }\ny-notes: 1\ntasks: []\n`,
    });
    expect(lines(errors(await load(dir, 'j.yaml')))).toEqual([
      'unknown-field: j.yaml:4:1: y-notes: unknown field "y-notes"; expected one of: version, name, limits, schedule, timezone, out, notify, prepare, defaults, tasks, tasks_csv, storyboard',
    ]);
  });
});

/** Ids and texts as YAML users write them; what each must stay: the text as written. */
const WRITTEN = [
  '007',
  '08',
  '0x1A',
  '0o17',
  '0777',
  '1e3',
  '1E-3',
  '1_000',
  '+12',
  '-5',
  '.inf',
  '-.Inf',
  '.NaN',
  '3.10',
  '12345678901234567890',
  '2024-01-02',
  '2024-01-02T10:00:00Z',
  '12:30',
  '1:20:30',
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'true',
  'False',
];

describe('YAML values that are text by nature stay the text as written', () => {
  for (const [schema, directive] of [
    ['YAML 1.2', ''],
    ['YAML 1.1', '%YAML 1.1\n---\n'],
  ] as const) {
    it(`ids and prompts under ${schema}`, async () => {
      // A colon cannot be in an id (it is a file name): those are written as prompts only.
      const tasks = WRITTEN.map(
        (v, i) =>
          `  - ${v.includes(':') ? '' : `id: ${v}\n    `}prompt: ${v}\n    negative_prompt: ${v}\n    duration: ${[5, 6, 8][i % 3]}\n`,
      ).join('');
      const dir = await testdir({
        ...frames(),
        'j.yaml': `${directive}version: 1\ndefaults:\n  ${FRAMES}\ntasks:\n${tasks}`,
      });
      const plan = await load(dir, 'j.yaml');
      expect(plan.problems).toEqual([]);
      expect(plan.tasks.map((t) => t.id).filter((id) => !id.startsWith('task-'))).toEqual(
        WRITTEN.filter((v) => !v.includes(':')),
      );
      expect(plan.tasks.map((t) => t.params.prompt)).toEqual(WRITTEN);
      expect(plan.tasks.map((t) => t.params.negative_prompt)).toEqual(WRITTEN);
    });
  }

  it('job names, id prefixes, paths and aspect ratios too', async () => {
    const dir = await testdir({
      ...frames(),
      '2024.csv': 'image,last_image,prompt\na.png,b.png,p\n',
      'j.yaml': `%YAML 1.1\n---\nversion: 1\nname: 007\ntasks_csv: 2024.csv\nstoryboard:\n  id_prefix: 0x1A\n  frames:\n    - { image: a.png, prompt: p, aspect_ratio: 16:9 }\n    - b.png\n`,
    });
    const plan = await load(dir, 'j.yaml');
    expect(plan.problems).toEqual([]);
    expect(plan.job.name).toBe('007');
    expect(plan.tasks.map((t) => t.id).at(-1)).toBe('0x1A-01');
    expect(plan.tasks.at(-1)!.params.aspect_ratio).toBe('16:9');
  });

  it('reads yes/no/on/off as booleans where a boolean is meant; quoted text stays text', async () => {
    const task = (v: string) => `  - { ${INLINE}, prompt: ${v}, need_expand_prompt: ${v} }\n`;
    const dir = await testdir({
      ...frames(),
      'j.yaml': `version: 1\ntasks:\n${['yes', 'off', 'On', 'n', 'true'].map(task).join('')}`,
      'q.yaml': `version: 1\ntasks:\n${task('"yes"')}`,
    });
    const plan = await load(dir, 'j.yaml');
    expect(plan.problems).toEqual([]);
    expect(plan.tasks.map((t) => t.params.need_expand_prompt)).toEqual([true, false, true, false, true]);
    expect(lines(errors(await load(dir, 'q.yaml')))).toEqual([
      'invalid-value: q.yaml:3:75: tasks[0].need_expand_prompt: expected true or false, got "yes"',
    ]);
  });

  it('refuses an explicit ~ or null where a value is expected; an empty value is simply unset', async () => {
    const dir = await testdir({
      ...frames(),
      'j.yaml': `version: 1
defaults:
  ${FRAMES}
  negative_prompt: blurry
tasks:
  - id: ~
    prompt: a
  - prompt: null
  - prompt: c
    negative_prompt: ~
  - prompt: d
    negative_prompt:
`,
    });
    const plan = await load(dir, 'j.yaml');
    expect(lines(errors(plan))).toEqual([
      'invalid-id: j.yaml:7:9: tasks[0].id: expected an id, got ~ (YAML\'s null): leave id out for a derived one, or quote it ("~")',
      'invalid-value: j.yaml:9:13: tasks[1].prompt: expected a value for prompt, got null (YAML\'s null): leave the field out to use the default, or quote it ("null") if it is the text',
      'invalid-value: j.yaml:11:22: tasks[2].negative_prompt: expected a value for negative_prompt, got ~ (YAML\'s null): leave the field out to use the default, or quote it ("~") if it is the text',
    ]);
    expect(plan.tasks.map((t) => [t.params.prompt, t.params.negative_prompt])).toEqual([['d', 'blurry']]);
  });

  it('reads a job file saved as UTF-16 with its byte order mark', async () => {
    const text = `version: 1\ntasks:\n  - { id: 镜头, ${INLINE}, prompt: 日落 }\n`;
    const dir = await testdir({
      ...frames(),
      'le.yaml': iconv.encode(text, 'utf-16le', { addBOM: true }),
      'be.yaml': iconv.encode(text, 'utf-16be', { addBOM: true }),
    });
    for (const file of ['le.yaml', 'be.yaml']) {
      const plan = await load(dir, file);
      expect(plan.problems).toEqual([]);
      expect(plan.tasks.map((t) => [t.id, t.params.prompt])).toEqual([['镜头', '日落']]);
    }
  });
});
