import { describe, expect, it } from 'vitest';
import { generationRequest, taskKey } from '../../src/manifest/identity.js';
import type { FrameRef, TaskParams } from '../../src/manifest/types.js';
import { errors, frames, lines, load, testdir } from './_helpers.js';

const file = (c: string): FrameRef => ({
  kind: 'file',
  path: `/x/${c}`,
  display: c,
  sha256: c.repeat(64),
  bytes: 1,
  format: 'png',
  width: 1,
  height: 1,
});
const BASE: TaskParams = {
  selected_model: 'flf2v-1',
  prompt: 'The mist lifts',
  resolution: '720p',
  duration: 5,
  number_of_videos: 1,
};
const FULL: TaskParams = {
  ...BASE,
  negative_prompt: 'blurry',
  aspect_ratio: '16:9',
  duration: 8,
  number_of_videos: 2,
  need_expand_prompt: true,
  resolution: '1080p',
};
const URL_FRAME: FrameRef = { kind: 'url', url: 'https://example.com/last.png' };

describe('the take in the task key', () => {
  it('leaves every take 1 key as it was before takes existed (golden keys)', () => {
    // Computed by the key function before takes were added: every run directory resumes on these.
    const golden = [
      [
        taskKey(BASE, file('a'), file('b')),
        '4f9ef58b5da64e3392f621229b52e6a394f9a64bd2c441ae78e9f2419eca2429',
      ],
      [
        taskKey(BASE, file('a'), file('b'), 1),
        '4f9ef58b5da64e3392f621229b52e6a394f9a64bd2c441ae78e9f2419eca2429',
      ],
      [
        taskKey(FULL, file('c'), URL_FRAME),
        '584d078c5284a42734d75a6310aaa29cd286044d4569bac59a1632931c1137ee',
      ],
      [
        taskKey(FULL, file('c'), URL_FRAME, 1),
        '584d078c5284a42734d75a6310aaa29cd286044d4569bac59a1632931c1137ee',
      ],
    ];
    for (const [key, expected] of golden) expect(key).toBe(expected);
  });

  it('makes every later take a task of its own', () => {
    const keys = [1, 2, 3, 10].map((take) => taskKey(BASE, file('a'), file('b'), take));
    expect(new Set(keys).size).toBe(4);
    expect(taskKey(BASE, file('a'), file('b'), 2)).toBe(taskKey({ ...BASE }, file('a'), file('b'), 2));
  });

  it('is never sent: every take of a row sends the same request body', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv':
        'id,image,last_image,prompt,take\nshot,a.png,b.png,p,1\nshot,a.png,b.png,p,2\nshot,a.png,b.png,p,3\n',
    });
    const plan = await load(dir, 'm.csv');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.tasks.map((t) => [t.id, t.take])).toEqual([
      ['shot', 1],
      ['shot', 2],
      ['shot', 3],
    ]);
    expect(new Set(plan.tasks.map((t) => t.key)).size).toBe(3);
    const bodies = plan.tasks.map((t) => JSON.stringify(generationRequest(t.params, 'u1', 'u2')));
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).not.toContain('take');
    expect(plan.tasks[0]!.key).toBe(
      taskKey(plan.tasks[0]!.params, plan.tasks[0]!.image, plan.tasks[0]!.last_image),
    );
  });
});

describe('the take field', () => {
  it('is read from a CSV column, a YAML task and a storyboard frame', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': 'id,image,last_image,prompt,take\na,a.png,b.png,p,\na,a.png,b.png,p, 2 \n',
      'j.yaml':
        'version: 1\ntasks:\n  - { id: a, image: a.png, last_image: b.png, prompt: p }\n  - { id: a, image: a.png, last_image: b.png, prompt: p, take: 2 }\n',
      'board.yaml':
        'version: 1\nname: b\nstoryboard:\n  frames:\n    - { image: a.png, prompt: p }\n    - { image: b.png, prompt: q, take: 2 }\n    - c.png\n',
    });
    for (const manifest of ['m.csv', 'j.yaml']) {
      const plan = await load(dir, manifest);
      expect(lines(plan.problems), manifest).toEqual([]);
      expect(plan.tasks.map((t) => t.take)).toEqual([1, 2]);
    }
    const board = await load(dir, 'board.yaml');
    expect(lines(board.problems)).toEqual([]);
    expect(board.tasks.map((t) => [t.id, t.take])).toEqual([
      ['b-01', 1],
      ['b-02', 2],
    ]);
  });

  it('refuses anything but a whole number from 1 to 999, where it is written', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv':
        'id,image,last_image,prompt,take\na,a.png,b.png,p,0\nb,a.png,b.png,p,1.5\nc,a.png,b.png,p,two\nd,a.png,b.png,p,1000\n',
      'j.yaml': 'version: 1\ntasks:\n  - { id: a, image: a.png, last_image: b.png, prompt: p, take: -1 }\n',
    });
    expect(lines(errors(await load(dir, 'm.csv')))).toEqual([
      'invalid-value: m.csv row 2, column take (task a): expected a take number, a whole number from 1 to 999, got "0"',
      'invalid-value: m.csv row 3, column take (task b): expected a take number, a whole number from 1 to 999, got "1.5"',
      'invalid-value: m.csv row 4, column take (task c): expected a take number, a whole number from 1 to 999, got "two"',
      'invalid-value: m.csv row 5, column take (task d): expected a take number, a whole number from 1 to 999, got "1000"',
    ]);
    expect(lines(errors(await load(dir, 'j.yaml')))).toEqual([
      'invalid-value: j.yaml:3:64: tasks[0].take (task a): expected a take number, a whole number from 1 to 999, got -1',
    ]);
  });

  it('is no default: a take is one generation of one shot', async () => {
    const dir = await testdir({
      ...frames(),
      'j.yaml':
        'version: 1\ndefaults:\n  take: 2\ntasks:\n  - { id: a, image: a.png, last_image: b.png, prompt: p }\n',
    });
    expect(lines(errors(await load(dir, 'j.yaml')))).toEqual([
      'unknown-field: j.yaml:3:3: defaults.take: take cannot be a default: a take is one generation of one shot. Set it on the task, or make a new take with flf2v run MANIFEST --retake ID',
    ]);
  });
});

describe('ids and takes', () => {
  it("allows one id for a shot's takes and refuses the same id and take twice", async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': [
        'id,image,last_image,prompt,take',
        'a,a.png,b.png,p,1',
        'a,a.png,b.png,p,2',
        'a,b.png,c.png,other,2',
        'A,c.png,d.jpg,third,',
      ].join('\n'),
    });
    expect(lines(errors(await load(dir, 'm.csv')))).toEqual([
      'duplicate-id: m.csv row 4, column id (task a): expected each take of a shot once, got take 2 of "a" again: first used at m.csv row 3',
      'duplicate-id: m.csv row 5, column id (task A): expected a unique id, got "A" again: first used at m.csv row 2 ("a" differs only in case: their videos would overwrite each other on macOS and Windows)',
    ]);
  });

  it('refuses an id named like another shot’s take: their videos would have one name', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': 'id,image,last_image,prompt,take\na~take2,a.png,b.png,p,1\na,b.png,c.png,q,2\n',
    });
    expect(lines(errors(await load(dir, 'm.csv')))).toEqual([
      'duplicate-id: m.csv row 3, column id (task a): expected ids whose videos have their own names, got take 2 of "a": its video would be named "a~take2", like "a~take2" first used at m.csv row 2',
    ]);
  });

  it("names every take of an unnamed shot after its first take's key", async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': 'image,last_image,prompt,take\na.png,b.png,p,\na.png,b.png,p,2\nb.png,c.png,q,3\n',
    });
    const plan = await load(dir, 'm.csv');
    expect(lines(plan.problems)).toEqual([]);
    const [first, second, other] = plan.tasks;
    expect(second!.id).toBe(first!.id);
    expect(first!.id).toBe(`task-${first!.key.slice(0, 12)}`);
    expect(other!.id).toBe(`task-${taskKey(other!.params, other!.image, other!.last_image).slice(0, 12)}`);
  });
});
