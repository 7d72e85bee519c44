import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { acquireLock, lockPath, readLock } from '../../src/state/lock.js';
import { tempDir } from './_fixtures.js';

describe('run directory lock', () => {
  it('refuses a second holder and says who holds it', async () => {
    const dir = await tempDir();
    const lock = await acquireLock(dir, { command: 'flf2v run a.yaml' });
    await expect(acquireLock(dir, { command: 'flf2v run a.yaml' })).rejects.toMatchObject({
      code: 'E_LOCKED',
      message: expect.stringContaining(`pid ${process.pid} on ${hostname()}`),
    });
    await lock.release();
    const again = await acquireLock(dir, { command: 'x' });
    await again.release();
    expect(await readLock(dir)).toBeUndefined();
  });

  it('takes over a lock whose process on this host is gone', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    await acquireLock(dir, { command: 'x' }).then((l) => l.release());
    await writeFile(
      lockPath(dir),
      JSON.stringify({ pid: deadPid, host: hostname(), startedAt: 'then', command: 'old' }),
    );
    const lock = await acquireLock(dir, { command: 'new' });
    expect((await readLock(dir))?.command).toBe('new');
    await lock.release();
  });

  it('keeps a fresh lock from another host, however its pid looks here', async () => {
    const dir = await tempDir();
    await acquireLock(dir, { command: 'x' }).then((l) => l.release());
    await writeFile(
      lockPath(dir),
      JSON.stringify({ pid: 999999, host: 'other-host', startedAt: 'then', command: 'old' }),
    );
    await expect(acquireLock(dir, { command: 'new' })).rejects.toMatchObject({ code: 'E_LOCKED' });
  });

  it('is given back when the holder leaves through process.exit()', async () => {
    const dir = await tempDir();
    // The built module, as the CLI runs it (`pnpm test` builds first).
    const lockModule = fileURLToPath(new URL('../../dist/state/lock.js', import.meta.url));
    const script = `
      const { acquireLock } = await import(${JSON.stringify(lockModule)});
      await acquireLock(${JSON.stringify(dir)}, { command: 'flf2v run a.yaml' });
      process.exit(130);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(await readLock(dir)).toBeUndefined();
  });
});
