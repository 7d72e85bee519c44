import { type AddressInfo, createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis } from '../../_redis.js';

const clients: Redis[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});
function connect(url: string): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: 0 });
  c.on('error', () => {}); // refused connections while the server is down are expected here
  clients.push(c);
  return c;
}

describe('startRedis (the test harness)', () => {
  it('starts a persisting redis-server on a free loopback port', async () => {
    const server = await startRedis();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const redis = connect(server.url);
    expect(await redis.ping()).toBe('PONG');
    const config = async (name: string) => ((await redis.config('GET', name)) as string[])[1];
    expect(await config('appendonly')).toBe('yes');
    expect(await config('appendfsync')).toBe('always');
    expect(await config('maxmemory-policy')).toBe('noeviction');
    expect(await config('save')).toBe('');
    expect(await config('dir')).toBe(server.dir);
  });

  it('takes other settings for tests of the settings check', async () => {
    const server = await startRedis({
      config: { 'maxmemory-policy': 'allkeys-lru', appendfsync: 'everysec' },
    });
    const redis = connect(server.url);
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
  });

  it('keeps every acknowledged write across a kill -9 and a restart on the same port', async () => {
    const server = await startRedis();
    const redis = connect(server.url);
    for (let i = 0; i < 50; i++) await redis.set(`k${i}`, String(i));
    await server.kill();
    await expect(redis.ping()).rejects.toThrow();
    await server.restart();
    const after = connect(server.url);
    expect(await after.get('k49')).toBe('49');
    expect(await after.dbsize()).toBe(50);
  });

  it('moves to another port when the one it picked is taken meanwhile', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const server = await startRedis({ port });
      expect(server.port).not.toBe(port);
      expect(await connect(server.url).ping()).toBe('PONG');
    } finally {
      taken.close();
    }
  });

  it('runs several servers side by side', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    expect(a.port).not.toBe(b.port);
    await connect(a.url).set('x', 'a');
    expect(await connect(b.url).get('x')).toBeNull();
    await a.stop();
    await b.stop();
  });
});
