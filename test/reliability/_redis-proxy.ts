import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP proxy between flf2v and Redis that can cut a client's connection at one exact point: after Redis has
 * applied a command the client sent, before the client has read Redis's answer — what a network blip or a Redis
 * crash between its fsync and its reply does. The client then cannot know whether its write happened; ioredis
 * reconnects and sends it again.
 */
export interface RedisCutProxy {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  /**
   * Cut the connection that next sends a command whose bytes match `match`, once `applied()` says Redis has
   * applied it (its answer, and everything after it on that connection, is dropped). Resolves when cut.
   */
  cutAfter(match: RegExp, applied: (command: string) => Promise<boolean>): Promise<string>;
  close(): Promise<void>;
}

export async function startRedisCutProxy(redisPort: number): Promise<RedisCutProxy> {
  const sockets = new Set<Socket>();
  let armed:
    | { match: RegExp; applied: (command: string) => Promise<boolean>; done: (command: string) => void }
    | undefined;

  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    let held: Buffer[] | undefined;
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
    upstream.connect(redisPort, '127.0.0.1');
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const cut = armed && !held && armed.match.test(text) ? armed : undefined;
      if (cut) {
        armed = undefined;
        // From here on Redis's answers wait; once the command is applied, the connection goes.
        held = [];
        void (async () => {
          while (!(await cut.applied(text))) await new Promise((r) => setTimeout(r, 5));
          end();
          cut.done(text);
        })();
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (held) held.push(chunk);
      else client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    cutAfter: (match, applied) =>
      new Promise<string>((done) => {
        armed = { match, applied, done };
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
