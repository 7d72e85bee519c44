import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { placementOf } from '../../src/schedule/out-dir.js';
import { chooseRunDir } from '../../src/schedule/run-dir-choice.js';
import type { HistoryEntry } from '../../src/schedule/types.js';
import { tempDir } from './_helpers.js';

const AT = new Date('2026-02-01T18:00:00Z');
const previous: HistoryEntry = {
  id: 'p',
  trigger: 'schedule',
  firedAt: '2026-01-31T18:00:00Z',
  state: 'interrupted',
  runDir: '2026-02-01',
};

describe('which directory a firing runs in', () => {
  it('continues the previous run when it still has tasks at the provider', async () => {
    const root = await tempDir();
    const placement = placementOf({ name: 'n', out: join(root, '{date}') });
    const base = { placement, timeZone: 'Asia/Shanghai', at: AT, previous };
    const pending = (dir: string) => (dir === '2026-02-01' ? 2 : 0);
    expect(await chooseRunDir({ ...base, full: false, resumableIn: pending })).toEqual({
      runDir: join(root, '2026-02-01'),
      continued: true,
    });
    // Nothing left to finish there (or --full): the template's directory for this firing.
    expect(await chooseRunDir({ ...base, full: false, resumableIn: () => 0 })).toEqual({
      runDir: join(root, '2026-02-02'),
      continued: false,
    });
    expect((await chooseRunDir({ ...base, full: true, resumableIn: pending })).continued).toBe(false);
  });

  it('a {date} directory is reused the same day; a stamp, or --full, always gets a fresh one', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'dated', '2026-02-02'), { recursive: true });
    await mkdir(join(root, 'stamped', '2026-02-02_020000'), { recursive: true });
    const none = () => 0;
    const dated = placementOf({ name: 'n', out: join(root, 'dated', '{date}') });
    const at = { timeZone: 'Asia/Shanghai', at: AT, resumableIn: none };
    expect((await chooseRunDir({ ...at, placement: dated, full: false })).runDir).toBe(
      join(root, 'dated', '2026-02-02'),
    );
    expect((await chooseRunDir({ ...at, placement: dated, full: true })).runDir).toBe(
      join(root, 'dated', '2026-02-02-2'),
    );
    const stamped = placementOf({ name: 'n', out: join(root, 'stamped') });
    expect((await chooseRunDir({ ...at, placement: stamped, full: false })).runDir).toBe(
      join(root, 'stamped', '2026-02-02_020000-2'),
    );
  });
});
