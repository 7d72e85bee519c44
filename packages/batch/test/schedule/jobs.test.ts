import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverJobs } from '../../src/schedule/jobs.js';
import { png } from '../manifest/_helpers.js';
import { tempDir } from './_helpers.js';

const CSV = 'id,image,last_image,prompt\na,a.png,b.png,First\n';

async function jobsDir(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'a.png'), png(32, 18, 1));
  await writeFile(join(dir, 'b.png'), png(32, 18, 2));
  await writeFile(join(dir, 'q.csv'), CSV);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const job = (name: string, more = '') =>
  `version: 1\nname: ${name}\nschedule: "0 2 * * *"\ntimezone: Asia/Shanghai\ntasks_csv: q.csv\n${more}`;

describe('finding the jobs to schedule', () => {
  it('a jobs directory: scheduled, ignored (no schedule:) and invalid files are told apart', async () => {
    const dir = await jobsDir({
      'nightly.yaml': job('nightly', 'out: runs/nightly/{date}\n'),
      'weekly.yml': job('weekly').replace('0 2 * * *', '0 0 3 * * 1'),
      'plain.yaml': 'version: 1\nname: plain\ntasks_csv: q.csv\n',
      'bad-cron.yaml': job('bad').replace('0 2 * * *', '0 25 * * *'),
      'bad-zone.yaml': job('zone').replace('Asia/Shanghai', 'Asia/Shanghia'),
      'broken.yaml': 'version: 1\nschedule: "0 2 * * *\n  tasks: [',
      'notes.txt': 'not a job',
      'sub/deeper.yaml': job('deeper'),
    });
    const found = await discoverJobs([dir], dir);
    expect(found.jobs.map((j) => j.name)).toEqual(['nightly', 'weekly']);
    const nightly = found.jobs[0]!;
    expect(nightly).toMatchObject({
      display: 'nightly.yaml',
      schedule: '0 2 * * *',
      timezone: 'Asia/Shanghai',
      placement: { root: join(dir, 'runs', 'nightly'), depth: 1 },
    });
    expect(found.jobs[1]!.placement.root).toBe(join(dir, 'runs', 'weekly'));
    expect(found.ignored).toEqual(['plain.yaml']);
    expect(found.invalid.map((i) => i.file)).toEqual(['bad-cron.yaml', 'bad-zone.yaml', 'broken.yaml']);
    expect(found.invalid[0]!.messages.join()).toMatch(/bad-cron\.yaml:3:11: schedule: .*hour/i);
    expect(found.invalid[1]!.messages.join()).toMatch(/did you mean "Asia\/Shanghai"/);
    expect(found.invalid[2]!.messages.join()).toMatch(/not valid YAML/);
    expect(found.warnings).toEqual([]);
  });

  it('a job whose tasks are invalid today is still scheduled, with a warning', async () => {
    const dir = await jobsDir({ 'j.yaml': job('j').replace('q.csv', 'missing.csv') });
    const found = await discoverJobs([join(dir, 'j.yaml')], dir);
    expect(found.jobs.map((j) => j.name)).toEqual(['j']);
    expect(found.warnings[0]!.messages.join()).toMatch(/missing\.csv/);
  });

  it('two jobs that would share a history directory: the second is not scheduled', async () => {
    const dir = await jobsDir({
      'a.yaml': job('a', 'out: runs/shared/{date}\n'),
      'b.yaml': job('b', 'out: runs/shared/{time}\n'),
    });
    const found = await discoverJobs([dir, join(dir, 'a.yaml')], dir);
    expect(found.jobs.map((j) => j.name)).toEqual(['a']);
    expect(found.invalid[0]!.messages.join()).toMatch(/runs\/shared, which a\.yaml already uses/);
  });

  it('a path that does not exist is a usage error', async () => {
    const dir = await tempDir();
    await expect(discoverJobs([join(dir, 'nope')], dir)).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('a CSV given as a job is reported, not scheduled', async () => {
    const dir = await jobsDir({});
    const found = await discoverJobs([join(dir, 'q.csv')], dir);
    expect(found.jobs).toEqual([]);
    expect(found.invalid[0]!.messages.join()).toMatch(/expected a YAML job file with schedule:, got a \.csv/);
  });
});
