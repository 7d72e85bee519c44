import { describe, expect, it } from 'vitest';
import { errors, JPEG_320x180, load, png, testdir } from './_helpers.js';

/** One job with twenty different mistakes: a user fixing it wants all twenty in one pass. */
describe('a manifest with twenty different problems', () => {
  it('reports all twenty, each at its place', async () => {
    const dir = await testdir({
      'a.png': png(32, 18, 1),
      'b.jpg': JPEG_320x180,
      'thin.png': png(10, 60),
      'notes.png': 'these are notes, not a picture',
      'big.png': Buffer.concat([png(64, 36, 9), Buffer.alloc(5000)]),
      'job.yaml': `version: 1
nmae: twenty
schedule: "0 2 * *"
timezone: Europe/Pari
limits: { submit_rpm: -1, max_inflight: 2 }
out: runs/{week}
defaults:
  duration: 7
tasks:
  - id: one
    image: a.png
    last_image: b.jpg
    promt: typo
  - id: two
    image: a.png
    last_image: b.jpg
    prompt: fine
    resolution: 4k
  - id: three
    image: missing.png
    last_image: b.jpg
    prompt: gone
  - id: four
    image: notes.png
    last_image: b.jpg
    prompt: not an image
  - id: five/5
    image: a.png
    last_image: b.jpg
    prompt: slash
  - id: two
    image: b.jpg
    last_image: a.png
    prompt: same id as the second
  - id: seven
    image: thin.png
    last_image: a.png
    prompt: too thin
  - id: eight
    image: a.png
    last_image: b.jpg
    prompt: expand?
    need_expand_prompt: maybe
tasks_csv: rows.csv
storyboard:
  frames:
    - { image: a.png, prompt: only one frame }
`,
      'rows.csv': [
        'id,image,last_image,prompt,number_of_videos,colour',
        'r1,a.png,b.jpg,too many videos,9,',
        'r2,big.png,b.jpg,big frame,1,',
        'r3,a.png,b.jpg,,1,',
      ].join('\n'),
    });
    const plan = await load(dir, 'job.yaml', {
      limits: { imageMaxBytes: 4000 },
      prepare: { enabled: false },
    });
    const found = errors(plan).map((p) => {
      const at =
        p.location.row === undefined ? `${p.location.line}:${p.location.column}` : `row ${p.location.row}`;
      return `${p.location.file} ${at} ${p.location.path ?? p.location.field ?? ''} ${p.kind}`.trim();
    });
    expect(found).toEqual([
      'job.yaml 2:1 nmae unknown-field',
      'job.yaml 3:11 schedule invalid-schedule',
      'job.yaml 4:11 timezone invalid-timezone',
      'job.yaml 5:23 limits.submit_rpm invalid-value',
      'job.yaml 5:27 limits.max_inflight unknown-field',
      'job.yaml 6:6 out invalid-value',
      'job.yaml 8:13 defaults.duration invalid-value',
      'job.yaml 13:5 tasks[0].promt unknown-field',
      'job.yaml 18:17 tasks[1].resolution invalid-value',
      'job.yaml 20:12 tasks[2].image frame-missing',
      'job.yaml 24:12 tasks[3].image frame-format',
      'job.yaml 27:9 tasks[4].id invalid-id',
      'job.yaml 31:5 tasks[5].id duplicate-id',
      'job.yaml 36:12 tasks[6].image frame-aspect',
      'job.yaml 43:25 tasks[7].need_expand_prompt invalid-value',
      'job.yaml 47:5 storyboard.frames storyboard-too-short',
      'rows.csv row 1 colour unknown-field',
      'rows.csv row 2 number_of_videos invalid-value',
      'rows.csv row 3 image frame-too-large',
      'rows.csv row 4 prompt missing-field',
    ]);
    expect(new Set(errors(plan).map((p) => p.kind)).size).toBeGreaterThanOrEqual(12);
    expect(plan.summary.errors).toBe(20);
    expect(plan.tasks).toEqual([]);
  });
});
