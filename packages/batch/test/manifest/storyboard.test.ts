import { describe, expect, it } from 'vitest';
import { errors, frames, lines, load, testdir } from './_helpers.js';

function display(frame: { kind: string; display?: string }): string | undefined {
  return frame.display;
}

describe('storyboard', () => {
  it('expands N frames into N-1 consecutive tasks named <job name>-01, -02, …', async () => {
    const dir = await testdir({
      ...frames(),
      'day.yaml': `version: 1
name: day
storyboard:
  frames:
    - image: a.png
      prompt: Dawn breaks
    - image: b.png
      prompt: Noon passes
      duration: 8
    - image: c.png
      prompt: Dusk falls
    - d.jpg
`,
    });
    const plan = await load(dir, 'day.yaml');
    expect(lines(plan.problems)).toEqual([]);
    expect(
      plan.tasks.map((t) => [
        t.id,
        display(t.image),
        display(t.last_image),
        t.params.prompt,
        t.params.duration,
      ]),
    ).toEqual([
      ['day-01', 'a.png', 'b.png', 'Dawn breaks', 5],
      ['day-02', 'b.png', 'c.png', 'Noon passes', 8],
      ['day-03', 'c.png', 'd.jpg', 'Dusk falls', 5],
    ]);
    expect(plan.tasks[1]!.source).toEqual({
      file: 'day.yaml',
      line: 7,
      column: 7,
      path: 'storyboard.frames[1]',
    });
    expect(plan.summary.framesToUpload).toBe(4); // each frame uploaded once, though used twice
  });

  it('takes id_prefix, per-frame ids, and pads numbers to the count', async () => {
    const frameList = Array.from(
      { length: 101 },
      (_, i) => `    - { image: ${'abc'[i % 3]}.png, prompt: "move ${i}" }`,
    );
    frameList[100] = '    - a.png';
    const dir = await testdir({
      ...frames(),
      'long.yaml': `version: 1\nstoryboard:\n  id_prefix: shot\n  frames:\n${frameList.join('\n')}\n`,
      'named.yaml': `version: 1
storyboard:
  frames:
    - { image: a.png, prompt: one, id: opening }
    - { image: b.png, prompt: two }
    - c.png
`,
    });
    const long = await load(dir, 'long.yaml');
    expect(errors(long)).toEqual([]);
    expect(long.tasks.map((t) => t.id).slice(0, 2)).toEqual(['shot-001', 'shot-002']);
    expect(long.tasks.at(-1)!.id).toBe('shot-100');
    const named = await load(dir, 'named.yaml');
    expect(named.tasks.map((t) => t.id)).toEqual(['opening', 'named-02']); // prefix: the job (file) name
  });

  it('explains a prompt on the last frame and a missing prompt on another', async () => {
    const dir = await testdir({
      ...frames(),
      'a.yaml': `version: 1
storyboard:
  frames:
    - image: a.png
    - image: b.png
      prompt: The light fades
    - image: c.png
      prompt: Into night
      duration: 6
`,
    });
    expect(lines(errors(await load(dir, 'a.yaml')))).toEqual([
      "missing-field: a.yaml:4:7: storyboard.frames[0].prompt (task a-01): missing prompt (required): frame 0's prompt describes the move from it to frame 1",
      "storyboard-last-frame: a.yaml:8:7: storyboard.frames[2].prompt: the last frame takes no prompt: nothing follows it. The move into it is described by the previous frame's prompt",
      'storyboard-last-frame: a.yaml:9:7: storyboard.frames[2].duration: the last frame takes no duration: nothing follows it. Set it on the previous frame, whose transition ends here',
    ]);
  });

  it('rejects fewer than two frames, last_image on a frame, unknown keys', async () => {
    const dir = await testdir({
      ...frames(),
      'short.yaml': 'version: 1\nstoryboard:\n  frames:\n    - { image: a.png }\n',
      'keys.yaml': `version: 1
storyboard:
  prefix: x
  frames:
    - { image: a.png, last_image: b.png, promt: one }
    - b.png
`,
    });
    expect(lines(errors(await load(dir, 'short.yaml')))).toEqual([
      'storyboard-too-short: short.yaml:4:5: storyboard.frames: expected at least two frames (each transition goes from one frame to the next), got 1',
    ]);
    expect(
      lines(errors(await load(dir, 'keys.yaml'))).map((l) => l.replace(/; expected one of: .*/, '')),
    ).toEqual([
      'unknown-field: keys.yaml:3:3: storyboard.prefix: unknown field "prefix" (did you mean "id_prefix"?)',
      'unknown-field: keys.yaml:5:23: storyboard.frames[0].last_image: a storyboard frame has no last_image: the next frame is where its transition ends',
      'unknown-field: keys.yaml:5:42: storyboard.frames[0].promt: unknown field "promt" (did you mean "prompt"?)',
    ]);
  });

  it('reports a missing frame file once, though two transitions use it', async () => {
    const dir = await testdir({
      ...frames(),
      'a.yaml': `version: 1
storyboard:
  frames:
    - { image: a.png, prompt: one }
    - { image: gone.png, prompt: two }
    - c.png
`,
    });
    const found = errors(await load(dir, 'a.yaml'));
    expect(found.map((p) => [p.kind, p.location.line, p.location.path])).toEqual([
      ['frame-missing', 5, 'storyboard.frames[1].image'],
    ]);
  });

  it('mixes with tasks: in one job, ids in one namespace', async () => {
    const dir = await testdir({
      ...frames(),
      'a.yaml': `version: 1
name: mix
tasks:
  - { id: mix-01, image: c.png, last_image: a.png, prompt: back }
storyboard:
  frames:
    - { image: a.png, prompt: one }
    - b.png
`,
    });
    expect(lines(errors(await load(dir, 'a.yaml')))).toEqual([
      'duplicate-id: a.yaml:7:7: storyboard.frames[0].id (task mix-01): expected a unique id, got "mix-01" again: first used at a.yaml:4:5: tasks[0]',
    ]);
  });
});
