import type { OutgoingHttpHeaders } from 'node:http';
import { CODE } from './_codes.js';
import { parseRange } from './_range.js';
import { type Exchange, sendBytes, sendJson } from './_respond.js';
import type { SimState } from './_state.js';

const VIDEO_PATH = /^\/videos\/([0-9a-zA-Z_-]{1,80})\/(\d{1,2})\.mp4$/;
const FILE_PATH = /^\/files\/([0-9a-f]{64})\.(png|jpg)$/;

/** `GET|HEAD /videos/<taskId>/<n>.mp4?expires=…&sig=…`: signed, expiring, with `Range`. No API key needed. */
export async function handleVideo(sim: SimState, ex: Exchange, path: string, query: string): Promise<void> {
  const m = VIDEO_PATH.exec(path);
  const params = new URLSearchParams(query);
  const expires = Number(params.get('expires'));
  const sig = params.get('sig') ?? '';
  if (!m || !Number.isFinite(expires) || !sim.signer.verify(path, expires, sig)) {
    return forbidden(sim, ex, 'signature does not match');
  }
  const now = sim.now();
  if (now > expires) return forbidden(sim, ex, 'request has expired');
  const taskId = m[1]!;
  const index = Number(m[2]);
  const task = sim.tasks.get(taskId);
  if (!task || index >= task.numberOfVideos || sim.tasks.view(task, now).state !== 'COMPLETED') {
    return sendJson(sim.ledger, ex, 404, { code: CODE.NOT_FOUND, message: 'no such video' });
  }
  const { body, sha256 } = await sim.videoBytes(task, index);
  const sent = sendRanged(sim, ex, body, { 'content-type': 'video/mp4', etag: `"${sha256.slice(0, 32)}"` });
  const intact = ex.after === undefined && ex.req.method !== 'HEAD';
  if (sent !== undefined && intact) sim.ledger.videoServed(taskId, index, sha256, body.length, sent === 206);
}

/** `GET|HEAD /files/<sha256>.<png|jpg>`: an uploaded frame, as `fullPath` named it. */
export function handleFile(sim: SimState, ex: Exchange, path: string): void {
  const m = FILE_PATH.exec(path);
  const upload = m ? sim.uploads.get(m[1]!) : undefined;
  if (!upload || upload.type !== m?.[2]) {
    sendJson(sim.ledger, ex, 404, { code: CODE.NOT_FOUND, message: 'no such file' });
    return;
  }
  sendRanged(sim, ex, upload.bytes, { 'content-type': upload.type === 'png' ? 'image/png' : 'image/jpeg' });
}

/** Send `body` whole or the one range asked for; returns the status sent with a body (200/206), if any. */
function sendRanged(
  sim: SimState,
  ex: Exchange,
  body: Buffer,
  headers: OutgoingHttpHeaders,
): 200 | 206 | undefined {
  const range = parseRange(ex.req.headers.range, body.length);
  const common = { ...headers, 'accept-ranges': 'bytes', 'cache-control': 'private, max-age=0' };
  if (range.kind === 'unsatisfiable') {
    sendJson(
      sim.ledger,
      ex,
      416,
      { code: CODE.RANGE_NOT_SATISFIABLE, message: 'range not satisfiable' },
      {
        'content-range': `bytes */${body.length}`,
      },
    );
    return undefined;
  }
  if (range.kind === 'partial') {
    const { start, end } = range;
    sendBytes(
      sim.ledger,
      ex,
      206,
      { ...common, 'content-range': `bytes ${start}-${end}/${body.length}` },
      body.subarray(start, end + 1),
    );
    return 206;
  }
  sendBytes(sim.ledger, ex, 200, common, body);
  return 200;
}

function forbidden(sim: SimState, ex: Exchange, why: string): void {
  sendJson(sim.ledger, ex, 403, { code: CODE.URL_EXPIRED, message: `Forbidden: ${why}` });
}
