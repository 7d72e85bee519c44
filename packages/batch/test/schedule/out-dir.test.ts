import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  firingStamp,
  freshDir,
  fromRoot,
  placementOf,
  relativeToRoot,
  runDirAt,
} from '../../src/schedule/out-dir.js';
import { tempDir } from './_helpers.js';

// 2026-02-01 18:30:05 UTC is 2026-02-02 02:30:05 in Shanghai: the date a nightly run belongs to is local.
const AT = new Date('2026-02-01T18:30:05Z');

describe('run directory naming', () => {
  it('without out: runs/<name>/<date>_<time> below the working directory', () => {
    const p = placementOf({ name: 'nightly' }, '/work');
    expect(p).toEqual({
      root: '/work/runs/nightly',
      template: '/work/runs/nightly/{date}_{time}',
      depth: 1,
      ownStamp: true,
    });
    expect(runDirAt(p, AT, 'Asia/Shanghai')).toBe('/work/runs/nightly/2026-02-02_023005');
    expect(runDirAt(p, AT, 'UTC')).toBe('/work/runs/nightly/2026-02-01_183005');
  });

  it('out: without a placeholder is the history root; each firing gets a stamped directory in it', () => {
    const p = placementOf({ name: 'x', out: '/data/videos' });
    expect(p.root).toBe('/data/videos');
    expect(runDirAt(p, AT, 'Asia/Shanghai')).toBe('/data/videos/2026-02-02_023005');
  });

  it('out: with {date} is the run directory; the history root is the directory above the placeholder', () => {
    const p = placementOf({ name: 'x', out: '/jobs/runs/nightly/{date}' });
    expect(p).toMatchObject({ root: '/jobs/runs/nightly', depth: 1, ownStamp: false });
    expect(runDirAt(p, AT, 'Asia/Shanghai')).toBe('/jobs/runs/nightly/2026-02-02');
  });

  it('placeholders inside a segment and on two levels', () => {
    expect(placementOf({ name: 'x', out: '/r/night-{date}' }).root).toBe('/r');
    const nested = placementOf({ name: 'x', out: '/r/n/{date}/{time}' });
    expect(nested).toMatchObject({ root: '/r/n', depth: 2 });
    expect(runDirAt(nested, AT, 'UTC')).toBe('/r/n/2026-02-01/183005');
  });

  it('a relative out: is resolved against the given directory', () => {
    expect(placementOf({ name: 'x', out: 'o/{date}' }, '/base').root).toBe(resolve('/base/o'));
  });

  it('a stamped directory that exists already gets -2, -3…', async () => {
    const root = await tempDir();
    const dir = join(root, '2026-02-02_020000');
    expect(await freshDir(dir)).toBe(dir);
    await mkdir(dir);
    expect(await freshDir(dir)).toBe(`${dir}-2`);
    await mkdir(`${dir}-2`);
    expect(await freshDir(dir)).toBe(`${dir}-3`);
  });

  it('firing stamps and paths relative to the root', () => {
    expect(firingStamp(AT, 'UTC')).toBe('2026-02-01_183005');
    expect(relativeToRoot('/r', join('/r', 'a', 'b'))).toBe('a/b');
    expect(relativeToRoot('/r', '/r')).toBe('.');
    expect(fromRoot('/r', 'a/b')).toBe(join('/r', 'a', 'b'));
  });
});
