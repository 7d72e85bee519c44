import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, load, REPO } from './_helpers.js';

/** The examples in jobs/ are documentation: they must stay valid, with no warnings. */
describe('the example jobs', () => {
  it('demo: a storyboard of three shots with fixed ids', async () => {
    const plan = await load(REPO, 'jobs/demo/demo.yaml');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['dawn-to-noon', 'noon-to-dusk', 'dusk-to-night']);
  });

  it('bulk: ten CSV rows, a Chinese prompt and a multi-line one', async () => {
    const plan = await load(REPO, 'jobs/bulk/bulk.yaml');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.tasks).toHaveLength(10);
    const prompts = plan.tasks.map((t) => t.params.prompt);
    expect(prompts.some((p) => /[\u4e00-\u9fff]/.test(p))).toBe(true);
    expect(prompts.some((p) => p.includes('\n'))).toBe(true);
    expect(plan.tasks.find((t) => t.id === 'timelapse')!.source).toEqual({
      file: 'jobs/bulk/shots.csv',
      row: 6,
    });
    expect(plan.tasks.find((t) => t.id === 'tower')!.source.row).toBe(10); // line 12: after a three-line cell
    expect(plan.job.limits).toEqual({ submitRpm: 20, maxInFlight: 4 });
  });

  it('storyboard: five frames, four transitions', async () => {
    const plan = await load(REPO, 'jobs/storyboard/day.yaml');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.tasks.map((t) => [t.id, t.params.duration])).toEqual([
      ['day-01', 5],
      ['day-02', 6],
      ['day-03', 5],
      ['day-04', 8],
    ]);
  });

  it('prepared: frames that need converting, turning upright and fitting', async () => {
    const plan = await load(REPO, 'jobs/prepared/prepared.yaml', {
      prepare: { cacheDir: join(tmpdir(), `flf2v-examples-${process.pid}`) },
    });
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.prepared!.map((f) => [f.display, f.format, f.width, f.height])).toEqual([
      ['frames/dawn.webp', 'jpeg', 320, 180],
      ['frames/noon.tiff', 'png', 320, 180],
      ['frames/night.gif', 'png', 320, 180],
      ['frames/tower-phone.jpg', 'jpeg', 320, 180],
    ]);
    expect(plan.prepared!.at(-1)!.prepared.steps).toEqual([
      'turned upright (EXIF orientation 6: turned 90° clockwise)',
      'made 320×180 like the first frame (fit_last: cover: scaled to fill, then cropped)',
    ]);
  });

  it('nightly: a schedule, a time zone, a dated run directory', async () => {
    const plan = await load(REPO, 'jobs/nightly.yaml');
    expect(lines(plan.problems)).toEqual([]);
    expect(plan.job).toMatchObject({
      name: 'nightly',
      schedule: '0 2 * * *',
      timezone: 'Asia/Shanghai',
      out: join(REPO, 'jobs/runs/nightly/{date}'),
    });
    expect(plan.tasks.length).toBeGreaterThan(0);
  });
});
