import { mkdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pointLatest, readLatest } from '../../src/schedule/latest.js';
import { tempDir } from './_helpers.js';

describe('the latest pointer', () => {
  it('is a relative symlink plus latest.json, replaced on every run', async () => {
    const root = await tempDir();
    for (const d of ['2026-02-01', '2026-02-02']) await mkdir(join(root, d));
    await writeFile(join(root, '2026-02-02', 'report.html'), 'x');
    expect(await pointLatest(root, join(root, '2026-02-01'), 'one')).toEqual({ symlink: true });
    expect(await pointLatest(root, join(root, '2026-02-02'), 'two')).toEqual({ symlink: true });
    expect(await readlink(join(root, 'latest'))).toBe('2026-02-02');
    expect(await readLatest(root)).toMatchObject({ schemaVersion: 1, runDir: '2026-02-02', id: 'two' });
  });

  it('falls back to latest.json alone when the symlink cannot be made', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'run'));
    // A directory named `latest` (say, made by hand) cannot be replaced by a link.
    await mkdir(join(root, 'latest'));
    await writeFile(join(root, 'latest', 'keep'), 'x');
    expect(await pointLatest(root, join(root, 'run'), 'one')).toEqual({ symlink: false });
    expect(await readLatest(root)).toMatchObject({ runDir: 'run' });
  });
});
