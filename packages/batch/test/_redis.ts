import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * A real `redis-server` (Debian's package; `.ci/run` installs it) for tests: its own free port on 127.0.0.1
 * and its own temp directory, persisting the way the Redis backend demands (`appendonly yes`,
 * `appendfsync always`, `maxmemory-policy noeviction`, no RDB snapshots), stopped and removed after each test.
 * End-to-end tests import it by relative path.
 */

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Its working directory (the append-only files are in `appendonlydir/`). */
  dir: string;
  /** SIGTERM, and wait until it exited (it fsyncs first). */
  stop(): Promise<void>;
  /** SIGKILL (kill -9), and wait until it is gone. */
  kill(): Promise<void>;
  /** Start again on the same port and directory (replaying the append-only file); stops it first if running. */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /**
   * Settings over the defaults (`appendonly`, `appendfsync`, `maxmemory-policy`, …), as redis.conf names them:
   * e.g. `{ 'maxmemory-policy': 'allkeys-lru' }` for a test of the settings check.
   */
  config?: Record<string, string>;
  /** Try this port first (a test of the retry); a free one when it is taken. @default a free port */
  port?: number;
  /** How long to wait for it to answer PING, ms. @default 15_000 */
  readyTimeoutMs?: number;
}

const DEFAULTS: Record<string, string> = {
  bind: '127.0.0.1',
  // Loopback only, so protected mode has nothing to protect; off, so that it never refuses a test.
  'protected-mode': 'no',
  appendonly: 'yes',
  appendfsync: 'always',
  'maxmemory-policy': 'noeviction',
  save: '',
  daemonize: 'no',
};

const running = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f().catch(() => {})));
});
// A test process that dies mid-test must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A free port now (another process may take it before Redis binds it: `startRedis` retries on a new one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** One PING on a fresh socket: true on +PONG (a server still loading its AOF answers -LOADING). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawn on `port` and wait for PONG; rejects (the server stopped) when it exits first, e.g. port in use. */
async function launch(
  port: number,
  dir: string,
  config: Record<string, string>,
  readyTimeoutMs: number,
): Promise<ChildProcess> {
  const args = [`--port`, String(port), `--dir`, dir, `--logfile`, join(dir, 'redis.log')];
  for (const [name, value] of Object.entries(config)) args.push(`--${name}`, value);
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const failure = await Promise.race([spawnError, exited(child).then(() => 'exited' as const), ping(port)]);
    if (failure === true) return child;
    if (failure instanceof Error) {
      throw new Error(
        `could not start redis-server (${failure.message}): install Debian's redis-server (.ci/run does)`,
      );
    }
    if (failure === 'exited' || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited(child);
      const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '');
      const reason = failure === 'exited' ? 'exited' : `did not answer PING within ${readyTimeoutMs} ms`;
      throw Object.assign(new Error(`redis-server on port ${port} ${reason}:\n${log.slice(-2000)}`), {
        portInUse: /address already in use/i.test(log),
      });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Start a redis-server for this test (stopped and its directory removed after the test). */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const config = { ...DEFAULTS, ...options.config };
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; !child; attempt++) {
    port = attempt === 1 && options.port ? options.port : await freePort();
    try {
      child = await launch(port, dir, config, readyTimeoutMs);
    } catch (error) {
      if (!(error as { portInUse?: boolean }).portInUse || attempt >= 5) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const end = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal);
    await exited(c);
  };
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      // The same port, so clients reconnect to it; retried in case the old socket is not released yet.
      for (let attempt = 1; ; attempt++) {
        try {
          child = await launch(port, dir, config, readyTimeoutMs);
          return;
        } catch (error) {
          if (!(error as { portInUse?: boolean }).portInUse || attempt >= 20) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
  cleanups.push(async () => {
    await end('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  return server;
}
