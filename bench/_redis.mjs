// A redis-server for a benchmark: a free port on 127.0.0.1, a temp directory, the settings the Redis backend
// demands (appendonly yes, appendfsync always, noeviction; no RDB snapshots). `stop()` ends it and removes the
// directory; it is also killed if the harness exits first. (The tests' own is packages/batch/test/_redis.ts.)
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SETTINGS = {
  bind: '127.0.0.1',
  'protected-mode': 'no',
  appendonly: 'yes',
  appendfsync: 'always',
  'maxmemory-policy': 'noeviction',
  save: '',
};

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function pong(port) {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d) => done(d.toString('latin1').startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

/** `{ url, stop }`. Throws when redis-server is missing or does not answer within 15 s. */
export async function startRedisServer() {
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-bench-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--dir', dir, '--logfile', join(dir, 'redis.log')];
  for (const [k, v] of Object.entries(SETTINGS)) args.push(`--${k}`, v);
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const failed = new Promise((resolve) => child.once('error', resolve));
  for (const deadline = Date.now() + 15_000; ; ) {
    const error = await Promise.race([failed, new Promise((r) => setTimeout(r, 50))]);
    if (error || child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        `redis-server did not start (${error?.message ?? 'no PONG'}): install Debian's redis-server`,
      );
    }
    if (await pong(port)) return { url: `redis://127.0.0.1:${port}`, stop };
  }
}
