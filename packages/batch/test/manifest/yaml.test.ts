import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errors, frames, lines, load, testdir, warnings } from './_helpers.js';

describe('YAML job file', () => {
  it('reads settings, defaults and tasks; job defaults override the built-in ones, tasks override both', async () => {
    const dir = await testdir({
      ...frames('frames/'),
      'jobs/park.yaml': `version: 1
name: park
limits: { submit_rpm: 30, query_rpm: 120, max_in_flight: 4 }
schedule: "0 2 * * *"
timezone: Asia/Shanghai
out: runs/park/{date}
notify: { webhook: "https://hooks.example.test/flf2v" }
defaults:
  duration: 8
  negative_prompt: blurry
tasks:
  - id: first
    image: ../frames/a.png
    last_image: ../frames/b.png
    prompt: The gate opens
  - id: second
    image: ../frames/b.png
    last_image: ../frames/c.png
    prompt: The fountain starts
    duration: 6
    resolution: 1080p
    need_expand_prompt: true
`,
    });
    const plan = await load(dir, 'jobs/park.yaml');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.job).toEqual({
      name: 'park',
      limits: { submitRpm: 30, queryRpm: 120, maxInFlight: 4 },
      schedule: '0 2 * * *',
      timezone: 'Asia/Shanghai',
      out: join(dir, 'jobs/runs/park/{date}'),
      notify: { webhook: 'https://hooks.example.test/flf2v' },
    });
    expect(plan.summary.defaults).toEqual({
      selected_model: 'Viduq2-pro-FLF2V-fast',
      resolution: '720p',
      duration: 8,
      number_of_videos: 1,
      negative_prompt: 'blurry',
    });
    expect(plan.tasks.map((t) => [t.id, t.params.duration, t.params.resolution])).toEqual([
      ['first', 8, '720p'],
      ['second', 6, '1080p'],
    ]);
    expect(plan.tasks[1]!.params.need_expand_prompt).toBe(true);
    expect(plan.tasks[0]!.image).toMatchObject({ kind: 'file', path: join(dir, 'frames/a.png') });
    expect(plan.tasks[0]!.source).toEqual({ file: 'jobs/park.yaml', line: 12, column: 5, path: 'tasks[0]' });
    expect(plan.summary).toMatchObject({ tasks: 2, videos: 2, seconds: 14, framesToUpload: 3 });
  });

  it('locates every problem as file:line:column with its key path and the task id', async () => {
    const dir = await testdir({
      ...frames(),
      'a.yaml': `version: 1
tasks:
  - id: one
    image: a.png
    last_image: b.png
    prompt: ok
    duration: 7
  - image: a.png
    last_image: b.png
    prompt: ok
    resolution: 4k
`,
    });
    const plan = await load(dir, 'a.yaml');
    expect(lines(errors(plan))).toEqual([
      'invalid-value: a.yaml:7:15: tasks[0].duration (task one): expected 5, 6 or 8, got 7',
      'invalid-value: a.yaml:11:17: tasks[1].resolution: expected "720p" or "1080p", got "4k"',
    ]);
    expect(errors(plan)[0]!.location).toEqual({
      file: 'a.yaml',
      line: 7,
      column: 15,
      path: 'tasks[0].duration',
    });
  });

  it('rejects unknown keys at every level with "did you mean"', async () => {
    const dir = await testdir({
      ...frames(),
      'a.yaml': `version: 1
nmae: x
limits: { submitrpm: 3 }
notify: { web_hook: "https://x.test" }
defaults: { negativeprompt: blurry }
tasks_csv: { path: t.csv, encodng: gbk }
tasks:
  - image: a.png
    last_image: b.png
    pormpt: ok
  - input: { image: a.png }
`,
      't.csv': 'image,last_image,prompt\na.png,b.png,x\n',
    });
    const plan = await load(dir, 'a.yaml');
    expect(lines(errors(plan)).map((l) => l.replace(/; expected one of: .*/, ''))).toEqual([
      'unknown-field: a.yaml:2:1: nmae: unknown field "nmae" (did you mean "name"?)',
      'unknown-field: a.yaml:3:11: limits.submitrpm: unknown field "submitrpm" (did you mean "submit_rpm"?)',
      'unknown-field: a.yaml:4:11: notify.web_hook: unknown field "web_hook" (did you mean "webhook"?)',
      'unknown-field: a.yaml:5:13: defaults.negativeprompt: unknown field "negativeprompt" (did you mean "negative_prompt"?)',
      'unknown-field: a.yaml:6:27: tasks_csv.encodng: unknown field "encodng" (did you mean "encoding"?)',
      'unknown-field: a.yaml:10:5: tasks[0].pormpt: unknown field "pormpt" (did you mean "prompt"?)',
      'unknown-field: a.yaml:11:5: tasks[1].input: unknown field "input": write the input fields (image, last_image, prompt, …) directly on the task',
      'missing-field: a.yaml:11:5: tasks[1].image: missing image (required; set it on the task or in defaults:)',
      'missing-field: a.yaml:11:5: tasks[1].last_image: missing last_image (required; set it on the task or in defaults:)',
      'missing-field: a.yaml:11:5: tasks[1].prompt: missing prompt (required; set it on the task or in defaults:)',
    ]);
  });

  it('checks the job settings: version, name, schedule, timezone, limits, out, notify', async () => {
    const dir = await testdir({
      ...frames(),
      'a.yaml': `version: 2
name: "no/slashes"
schedule: "0 25 * * *"
timezone: Asia/Shanghia
limits: { submit_rpm: 0, query_rpm: fast, max_in_flight: 2.5 }
out: runs/{day}
notify: { webhook: "ftp://x" }
tasks: []
`,
    });
    const plan = await load(dir, 'a.yaml');
    expect(lines(errors(plan))).toEqual([
      'unsupported-version: a.yaml:1:10: version: expected 1 (the only job file version so far), got 2',
      'invalid-value: a.yaml:2:7: name: expected a job name that is usable as a file name (no / \\ < > : " | ? * or control characters, at most 100 characters), got "no/slashes"',
      'invalid-schedule: a.yaml:3:11: schedule: expected a valid cron expression, got "0 25 * * *": Invalid value for hour: 25',
      'invalid-timezone: a.yaml:4:11: timezone: expected an IANA time zone such as "Asia/Shanghai" or "UTC", got "Asia/Shanghia" (did you mean "Asia/Shanghai"?)',
      'invalid-value: a.yaml:5:23: limits.submit_rpm: expected a number > 0, got 0',
      'invalid-value: a.yaml:5:37: limits.query_rpm: expected a number > 0, got "fast"',
      'invalid-value: a.yaml:5:58: limits.max_in_flight: expected a whole number > 0, got 2.5',
      'invalid-value: a.yaml:6:6: out: expected only the placeholders {date} and {time}, got {day}',
      'invalid-value: a.yaml:7:20: notify.webhook: expected an http(s) URL, got "ftp://x"',
    ]);
  });

  it('accepts 5- and 6-field cron expressions and nicknames, not 4 or 7 fields', async () => {
    const job = (schedule: string) =>
      `version: 1\nschedule: "${schedule}"\ntasks:\n  - { image: a.png, last_image: b.png, prompt: p }\n`;
    const dir = await testdir({
      ...frames(),
      'five.yaml': job('0 2 * * *'),
      'six.yaml': job('30 0 2 * * 1-5'),
      'nick.yaml': job('@daily'),
      'four.yaml': job('0 2 * *'),
      'seven.yaml': job('0 0 2 * * * 2030'),
    });
    for (const ok of ['five', 'six', 'nick']) expect(errors(await load(dir, `${ok}.yaml`))).toEqual([]);
    for (const bad of ['four', 'seven']) {
      expect(errors(await load(dir, `${bad}.yaml`)).map((p) => p.kind)).toEqual(['invalid-schedule']);
    }
  });

  it('requires version and a task source', async () => {
    const dir = await testdir({ 'a.yaml': 'name: x\n' });
    expect(lines(errors(await load(dir, 'a.yaml')))).toEqual([
      'missing-field: a.yaml:1:1: missing version: 1 (the job file format version)',
      'missing-field: a.yaml:1:1: expected tasks:, tasks_csv: or storyboard: (where the tasks are)',
    ]);
  });

  it('reports YAML syntax errors with their location, and duplicate keys', async () => {
    const dir = await testdir({
      'bad.yaml': 'version: 1\ntasks:\n  - prompt: "unterminated\n',
      'dup.yaml': 'version: 1\nversion: 1\ntasks: []\n',
    });
    const bad = errors(await load(dir, 'bad.yaml'));
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((p) => p.kind === 'yaml-syntax' && p.location.line !== undefined)).toBe(true);
    expect(lines(errors(await load(dir, 'dup.yaml')))).toEqual([
      'yaml-syntax: dup.yaml:2:1: Map keys must be unique',
    ]);
  });

  it('rejects a job file that is not a mapping, or not UTF-8', async () => {
    const dir = await testdir({
      'list.yaml': '- a\n- b\n',
      'empty.yaml': '# nothing yet\n',
      'latin1.yaml': Buffer.from('version: 1\nname: caf\xe9\n', 'latin1'),
    });
    expect(lines(errors(await load(dir, 'list.yaml')))).toEqual([
      'invalid-value: list.yaml:1:1: expected a job: a mapping with version: 1 and tasks:, tasks_csv: or storyboard:, got a list',
    ]);
    expect(errors(await load(dir, 'empty.yaml')).map((p) => p.kind)).toEqual(['invalid-value']);
    expect(lines(errors(await load(dir, 'latin1.yaml')))).toEqual([
      'encoding: latin1.yaml:2:1: expected a UTF-8 job file, found bytes that are not UTF-8 (save it as UTF-8)',
    ]);
  });

  it('takes frames in defaults relative to the job file, and lets YAML anchors share values', async () => {
    const dir = await testdir({
      ...frames('f/'),
      'a.yaml': `version: 1
defaults:
  image: f/a.png
  prompt: &p The same move
tasks:
  - { id: x, last_image: f/b.png }
  - { id: y, last_image: f/c.png, prompt: *p, duration: 6 }
`,
    });
    const plan = await load(dir, 'a.yaml');
    expect(lines(plan.problems)).toEqual([]);
    expect(
      plan.tasks.map((t) => [t.id, t.image.kind === 'file' && t.image.display, t.params.prompt]),
    ).toEqual([
      ['x', 'f/a.png', 'The same move'],
      ['y', 'f/a.png', 'The same move'],
    ]);
  });

  it('reads tasks_csv relative to the job file, frames relative to the CSV, with the job defaults', async () => {
    const dir = await testdir({
      ...frames('frames/'),
      'jobs/bulk.yaml': 'version: 1\ndefaults: { duration: 6 }\ntasks_csv: data/rows.csv\n',
      'jobs/data/rows.csv': 'id,image,last_image,prompt\nr,../../frames/a.png,../../frames/b.png,p\n',
    });
    const plan = await load(dir, 'jobs/bulk.yaml');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.tasks[0]).toMatchObject({
      id: 'r',
      params: { duration: 6 },
      source: { file: 'jobs/data/rows.csv', row: 2 },
    });
  });

  it('points at tasks_csv when its file is missing, and at encoding: when it is unknown', async () => {
    const dir = await testdir({
      'a.yaml': 'version: 1\ntasks_csv: nope.csv\n',
      'b.yaml': 'version: 1\ntasks_csv: { path: t.csv, encoding: nope }\n',
      't.csv': 'id\n',
    });
    expect(lines(errors(await load(dir, 'a.yaml')))).toEqual([
      'file-missing: a.yaml:2:12: tasks_csv: CSV file not found: nope.csv',
    ]);
    expect(lines(errors(await load(dir, 'b.yaml')))).toEqual([
      'encoding: b.yaml:2:37: tasks_csv.encoding: unknown encoding "nope"; expected a name such as utf-8, windows-1252, gbk, big5, shift_jis or utf-16le',
    ]);
  });

  it('warns when a job has no tasks at all (an empty list)', async () => {
    const dir = await testdir({ 'a.yaml': 'version: 1\ntasks: []\n' });
    const plan = await load(dir, 'a.yaml');
    expect(errors(plan)).toEqual([]);
    expect(lines(warnings(plan))).toEqual(['no-tasks: a.yaml: the manifest has no tasks: nothing to do']);
  });

  it('requires YAML values of the right type: "5" (a string) is not a duration in YAML', async () => {
    const dir = await testdir({
      ...frames(),
      'a.yaml': 'version: 1\ntasks:\n  - { image: a.png, last_image: b.png, prompt: "", duration: "5" }\n',
    });
    expect(lines(errors(await load(dir, 'a.yaml')))).toEqual([
      'invalid-value: a.yaml:3:48: tasks[0].prompt: expected a non-empty text, got ""',
      'invalid-value: a.yaml:3:62: tasks[0].duration: expected 5, 6 or 8, got "5"',
    ]);
  });
});

describe('manifest files', () => {
  it('reports a missing manifest and an unsupported extension', async () => {
    const dir = await testdir({ 'a.json': 'x' });
    expect(lines(errors(await load(dir, 'nope.yaml')))).toEqual([
      'file-missing: nope.yaml: manifest not found: nope.yaml',
    ]);
    expect(lines(errors(await load(dir, 'a.json')))).toEqual([
      'unsupported-format: a.json: expected a .yaml or .yml job file, or a table (.csv, .tsv, .txt), got a .json file',
    ]);
  });
});
