import { describe, expect, it } from 'vitest';
import { formatPlanSummary, formatProblem, formatProblems, planToJson } from '../../src/manifest/format.js';
import { expandOutTemplate } from '../../src/manifest/out.js';
import { frames, load, testdir } from './_helpers.js';

describe('formatting a plan for people and scripts', () => {
  it('prints errors and warnings apart, then the summary', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv':
        'id,image,last_image,prompt,duration\nx,a.png,b.png,p,7\ny,a.png,tall.png,q,5\nz,a.png,c.png,r,6\n',
    });
    const plan = await load(dir, 'm.csv');
    expect(formatProblems(plan.problems)).toBe(
      [
        '1 error:',
        '  m.csv row 2, column duration (task x): expected 5, 6 or 8, got "7" [invalid-value]',
        '',
        '1 warning:',
        "  m.csv row 3 (task y): the two frames' aspect ratios differ too much: image a.png is 32×18 (1.78), last_image tall.png is 18×32 (0.56); expected their ratio within 0.8–1.25, got 3.16 [aspect-mismatch]",
        '',
      ].join('\n'),
    );
    expect(formatProblem(plan.problems[0]!)).toBe(
      'error: m.csv row 2, column duration (task x): expected 5, 6 or 8, got "7" [invalid-value]',
    );
    expect(formatPlanSummary(plan, dir)).toBe(
      [
        'Plan for job m: 2 tasks → 2 videos, 11 seconds of video',
        '  frames: 3 distinct files to upload, 0 URLs sent as given',
        '  defaults: selected_model=Viduq2-pro-FLF2V-fast, resolution=720p, duration=5, number_of_videos=1',
        'invalid: 1 error, 1 warning; nothing would be sent',
        '',
      ].join('\n'),
    );
  });

  it('gives scripts a versioned JSON form', async () => {
    const dir = await testdir({ ...frames(), 'm.csv': 'image,last_image,prompt\na.png,b.png,p\n' });
    const json = planToJson(await load(dir, 'm.csv'));
    expect(json).toMatchObject({
      schemaVersion: 1,
      valid: true,
      manifest: { format: 'csv' },
      job: { name: 'm', limits: {} },
      summary: { tasks: 1, videos: 1, seconds: 5, framesToUpload: 2, errors: 0, warnings: 0 },
      problems: [],
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('expands {date} and {time} in the job time zone', () => {
    const at = new Date('2026-02-01T18:30:05Z');
    expect(expandOutTemplate('runs/nightly/{date}', at, 'Asia/Shanghai')).toBe('runs/nightly/2026-02-02');
    expect(expandOutTemplate('runs/{date}-{time}', at, 'UTC')).toBe('runs/2026-02-01-183005');
  });
});
