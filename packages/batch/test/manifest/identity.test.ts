import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkId } from '../../src/manifest/ids.js';
import { errors, frames, lines, load, png, testdir, warnings } from './_helpers.js';

const HEADER = 'id,image,last_image,prompt,duration';
const ROWS = ['a,a.png,b.png,first,5', 'b,b.png,c.png,second,6', 'c,c.png,d.jpg,third,8'];

function keysById(plan: { tasks: { id: string; key: string }[] }): Record<string, string> {
  return Object.fromEntries(plan.tasks.map((t) => [t.id, t.key]));
}

describe('task identity', () => {
  it('is unchanged by reordering rows and adding rows', async () => {
    const dir = await testdir({
      ...frames(),
      'v1.csv': [HEADER, ...ROWS].join('\n'),
      'v2.csv': [HEADER, ROWS[2], 'new,a.png,c.png,fourth,5', ROWS[0], ROWS[1]].join('\n'),
    });
    const v1 = keysById(await load(dir, 'v1.csv'));
    const v2 = keysById(await load(dir, 'v2.csv'));
    expect(Object.keys(v1)).toHaveLength(3);
    for (const id of ['a', 'b', 'c']) expect(v2[id]).toBe(v1[id]);
  });

  it('ignores the id and the manifest format: the same request is the same task', async () => {
    const dir = await testdir({
      ...frames(),
      'a.csv': [HEADER, 'renamed,a.png,b.png,first,5'].join('\n'),
      'b.yaml': 'version: 1\ntasks:\n  - { id: a, image: a.png, last_image: b.png, prompt: first }\n',
    });
    expect((await load(dir, 'a.csv')).tasks[0]!.key).toBe((await load(dir, 'b.yaml')).tasks[0]!.key);
  });

  it('changes when anything sent changes: a parameter, the prompt, a frame’s bytes', async () => {
    const dir = await testdir({ ...frames(), 'm.csv': [HEADER, ...ROWS].join('\n') });
    const before = keysById(await load(dir, 'm.csv'));
    await writeFile(
      join(dir, 'm.csv'),
      [HEADER, 'a,a.png,b.png,first,6', 'b,b.png,c.png,second!,6', ROWS[2]].join('\n'),
    );
    const edited = keysById(await load(dir, 'm.csv'));
    expect(edited.a).not.toBe(before.a);
    expect(edited.b).not.toBe(before.b);
    expect(edited.c).toBe(before.c);
    await writeFile(join(dir, 'd.jpg'), png(32, 18, 99)); // same name, new picture
    expect(keysById(await load(dir, 'm.csv')).c).not.toBe(before.c);
  });

  it('treats need_expand_prompt: false as the default it is', async () => {
    const dir = await testdir({
      ...frames(),
      'a.csv': 'image,last_image,prompt\na.png,b.png,p\n',
      'b.csv': 'image,last_image,prompt,need_expand_prompt\na.png,b.png,p,false\n',
    });
    expect((await load(dir, 'a.csv')).tasks[0]!.key).toBe((await load(dir, 'b.csv')).tasks[0]!.key);
  });

  it('derives a stable id from the key when a task has none', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': 'image,last_image,prompt\na.png,b.png,p\nb.png,c.png,q\n',
    });
    const plan = await load(dir, 'm.csv');
    expect(plan.tasks.map((t) => t.id)).toEqual(plan.tasks.map((t) => `task-${t.key.slice(0, 12)}`));
    expect((await load(dir, 'm.csv')).tasks.map((t) => t.id)).toEqual(plan.tasks.map((t) => t.id));
  });

  it('folds identical rows into the first, with a warning', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': [HEADER, ROWS[0], ROWS[1], 'again,a.png,b.png,first,5', ',a.png,b.png,first,5'].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(errors(plan)).toEqual([]);
    expect(lines(warnings(plan))).toEqual([
      'duplicate-task: m.csv row 4 (task again): identical to m.csv row 2 (task a): the same request, planned once; its id "again" is not used',
      'duplicate-task: m.csv row 5: identical to m.csv row 2 (task a): the same request, planned once',
    ]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['a', 'b']);
    expect(plan.summary.duplicateRows).toBe(2);
  });

  it('rejects duplicate ids, also when they differ only in case', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': [HEADER, ROWS[0], 'a,b.png,c.png,other,5', 'A,c.png,d.jpg,third,5'].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(lines(errors(plan))).toEqual([
      'duplicate-id: m.csv row 3, column id (task a): expected a unique id, got "a" again: first used at m.csv row 2',
      'duplicate-id: m.csv row 4, column id (task A): expected a unique id, got "A" again: first used at m.csv row 2 ("a" differs only in case: their videos would overwrite each other on macOS and Windows)',
    ]);
  });

  it('accepts only ids that are safe as file names', () => {
    expect(checkId('shot-01')).toEqual({ ok: true, id: 'shot-01' });
    expect(checkId(' 镜头 1 ')).toEqual({ ok: true, id: '镜头 1' });
    expect(checkId(7)).toEqual({ ok: true, id: '7' });
    for (const bad of ['a/b', 'a\\b', '..', '.', 'a:b', 'tab\there', 'x'.repeat(101), '', 1.5, true]) {
      expect(checkId(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });

  it('reports an unsafe id where it is written', async () => {
    const dir = await testdir({ ...frames(), 'm.csv': [HEADER, '../escape,a.png,b.png,p,5'].join('\n') });
    expect(lines(errors(await load(dir, 'm.csv')))).toEqual([
      'invalid-id: m.csv row 2, column id: expected a name usable as a file name (no / \\ < > : " | ? * or control characters, at most 100 characters), got "../escape"',
    ]);
  });
});
