import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { bodyHash } from './_support.js';

/**
 * A loopback HTTP proxy between the CLI and the simulator, so a test can act at an exact point of a request:
 * kill the runner when a submit arrives (before the simulator sees it), right after the simulator answered it
 * (the task exists; has the taskId reached the journal?), or halfway through a video body. It rewrites the
 * simulator's own URLs (upload paths, result URLs) to point back through it, so downloads pass it too.
 *
 * It also remembers each submitted body's hash by prompt: with one prompt per task, that attributes the
 * ledger's accepted submissions (by `bodyHash`) to tasks exactly, even for submits whose answer was lost.
 *
 * Several clients can share it, each on its own lane: a base URL of `PROXY/w1` puts a client's requests on lane
 * `w1` (counted, decided and killed per lane) and its result URLs come back on that lane, so that a video is
 * downloaded through the lane of the client that asked for it. Upload URLs stay lane-free: they go into submit
 * bodies, which must not depend on which client uploaded a frame.
 */

export type ProxyEndpoint = 'upload' | 'submit' | 'status' | 'result' | 'download' | 'files' | 'other';

/** What to do with a request: pass it on, or kill the runner at one point of it. */
export type Action =
  | { kind: 'forward' }
  /** Kill before forwarding: the provider never sees the request. */
  | { kind: 'kill-on-arrival' }
  /** Forward, answer the client in full, then kill after `delayMs`. */
  | { kind: 'kill-after-response'; delayMs: number }
  /** Forward, send the headers and half the body, then kill. */
  | { kind: 'kill-mid-body' };

export interface ProxiedRequest {
  /** The client's lane (`w1`, …), or '' for a client on the proxy's own URL. */
  lane: string;
  endpoint: ProxyEndpoint;
  method: string;
  path: string;
  /** 1-based count of this endpoint's requests on this lane since the last `reset()`. */
  nth: number;
}

export interface KillProxy {
  url: string;
  /** Decides per request; the default forwards everything. */
  decide: (req: ProxiedRequest) => Action;
  /** Called to kill the runner of `lane` (set by the test for each spawn). */
  kill: (reason: string, lane: string) => void;
  /** Restart the per-endpoint counts (one session): of one lane, or of all. */
  reset(lane?: string): void;
  /** Body hashes of submits by prompt (every distinct body seen). */
  readonly submitted: Map<string, Set<string>>;
  close(): Promise<void>;
}

function endpointOf(path: string): ProxyEndpoint {
  if (path === '/v1/videos/generations') return 'submit';
  if (path === '/v1/resources/upload') return 'upload';
  if (path.startsWith('/v1/comfyui/tasks/')) return path.endsWith('/result') ? 'result' : 'status';
  if (path.startsWith('/videos/')) return 'download';
  if (path.startsWith('/files/')) return 'files';
  return 'other';
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startKillProxy(target: string): Promise<KillProxy> {
  const targetUrl = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** Requests per `lane|endpoint`. */
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const submitted = new Map<string, Set<string>>();
  let selfUrl = '';

  const forward = (req: IncomingMessage, path: string, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>(
      (resolve, reject) => {
        const headers = { ...req.headers, host: targetUrl.host };
        const up = request(
          {
            host: targetUrl.hostname,
            port: targetUrl.port,
            method: req.method,
            path,
            headers,
            agent,
          },
          async (res) => {
            try {
              const data = await readBody(res);
              const out: Record<string, string | string[]> = {};
              for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = v;
              resolve({ status: res.statusCode ?? 502, headers: out, body: data });
            } catch (error) {
              reject(error);
            }
          },
        );
        up.on('error', reject);
        up.end(body);
      },
    );

  const proxy: KillProxy = {
    url: '',
    decide: () => ({ kind: 'forward' }),
    kill: () => {},
    reset: (lane) => {
      if (lane === undefined) counts.clear();
      else for (const k of [...counts.keys()]) if (k.startsWith(`${lane}|`)) counts.delete(k);
    },
    submitted,
    close: async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const laned = /^\/(w\d+)(\/.*)$/.exec(req.url ?? '/');
    const lane = laned?.[1] ?? '';
    const url = laned?.[2] ?? req.url ?? '/';
    const path = url.split('?')[0]!;
    const endpoint = endpointOf(path);
    const body = await readBody(req);
    if (endpoint === 'submit') {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { input?: { prompt?: string } };
        const prompt = parsed.input?.prompt;
        if (typeof prompt === 'string') {
          submitted.set(prompt, (submitted.get(prompt) ?? new Set<string>()).add(bodyHash(parsed)));
        }
      } catch {
        // not JSON: the simulator will say so
      }
    }
    const nth = (counts.get(`${lane}|${endpoint}`) ?? 0) + 1;
    counts.set(`${lane}|${endpoint}`, nth);
    const action = proxy.decide({ lane, endpoint, method: req.method ?? 'GET', path, nth });
    const reason = `${endpoint}#${nth}:${action.kind}`;
    if (action.kind === 'kill-on-arrival') {
      proxy.kill(reason, lane);
      req.socket.destroy();
      return;
    }
    let answer: Awaited<ReturnType<typeof forward>>;
    try {
      answer = await forward(req, url, body);
    } catch {
      req.socket.destroy();
      return;
    }
    let payload = answer.body;
    const type = String(answer.headers['content-type'] ?? '');
    if (type.includes('json')) {
      payload = Buffer.from(
        payload
          .toString('utf8')
          .replaceAll(`${target}/videos/`, `${selfUrl}${lane ? `/${lane}` : ''}/videos/`)
          .replaceAll(target, selfUrl),
      );
    }
    const headers =
      req.method === 'HEAD'
        ? answer.headers
        : { ...answer.headers, 'content-length': String(payload.length) };
    delete headers['transfer-encoding'];
    if (res.destroyed) return;
    res.writeHead(answer.status, headers);
    if (action.kind === 'kill-mid-body') {
      res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => {
        proxy.kill(reason, lane);
        setTimeout(() => req.socket.destroy(), 50);
      });
      return;
    }
    res.end(payload, () => {
      if (action.kind === 'kill-after-response') {
        if (action.delayMs <= 0) proxy.kill(reason, lane);
        else setTimeout(() => proxy.kill(reason, lane), action.delayMs);
      }
    });
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  selfUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.url = selfUrl;
  return proxy;
}
