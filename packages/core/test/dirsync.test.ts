import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncDirectory } from '../src/_dirsync.js';

describe('syncDirectory (group commit)', () => {
  it('lets many concurrent callers share fsyncs and always settles', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flf2v-dirsync-'));
    try {
      const order: number[] = [];
      await Promise.all(Array.from({ length: 50 }, (_, i) => syncDirectory(dir).then(() => order.push(i))));
      expect(order).toHaveLength(50);
      // The first caller runs alone; everyone arriving while it ran shares the next one.
      const first = syncDirectory(dir);
      const second = syncDirectory(dir);
      const third = syncDirectory(dir);
      expect(second).toBe(third);
      expect(first).not.toBe(second);
      await Promise.all([first, second, third]);
      // A missing directory is not an error: the rename is atomic either way.
      await syncDirectory(join(dir, 'missing'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
