import { createHash } from 'node:crypto';
import busboy from 'busboy';
import { CODE } from './_codes.js';
import { requireKey, sendBusinessError, sendOk, sendRateLimited } from './_endpoint.js';
import { sniffImage } from './_image-info.js';
import type { Exchange } from './_respond.js';
import type { SimState } from './_state.js';

type Parsed =
  | { kind: 'file'; bytes: Buffer }
  | { kind: 'too-large' }
  | { kind: 'no-file' }
  | { kind: 'bad'; why: string };

/** `POST /v1/resources/upload`: multipart field `file`, a png or jpg (by its bytes), up to `maxImageBytes`. */
export async function handleUpload(sim: SimState, ex: Exchange): Promise<void> {
  const key = requireKey(sim, ex);
  if (key === undefined) return;
  const waitMs = sim.takeLimit('upload', key, sim.now());
  if (waitMs > 0)
    return sendRateLimited(sim, ex, waitMs, sim.opts.responses.retryAfterFormat, CODE.RATE_LIMITED);
  const maxBytes = sim.opts.limits.maxImageBytes;
  const parsed = await parseMultipart(ex, maxBytes);
  switch (parsed.kind) {
    case 'bad':
      return sendBusinessError(sim, ex, CODE.NO_FILE, `invalid upload: ${parsed.why}`, 400);
    case 'no-file':
      return sendBusinessError(
        sim,
        ex,
        CODE.NO_FILE,
        'invalid upload: expected a file in the multipart field "file"',
      );
    case 'too-large':
      return sendBusinessError(
        sim,
        ex,
        CODE.TOO_LARGE,
        `file too large: the limit is ${maxBytes} bytes`,
        413,
      );
  }
  const info = sniffImage(parsed.bytes);
  if (!info) {
    return sendBusinessError(
      sim,
      ex,
      CODE.UNSUPPORTED_FILE,
      'unsupported file type: expected a png or jpg image',
    );
  }
  const sha256 = createHash('sha256').update(parsed.bytes).digest('hex');
  sim.uploads.put({ ...info, sha256, bytes: parsed.bytes });
  sim.ledger.upload(sha256, { bytes: parsed.bytes.length, ...info });
  sendOk(sim, ex, '上传成功', { fullPath: `${sim.baseUrl}/files/${sha256}.${info.type}` });
}

function parseMultipart(ex: Exchange, maxBytes: number): Promise<Parsed> {
  return new Promise((resolve) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: ex.req.headers, limits: { fileSize: maxBytes, files: 4, fields: 32 } });
    } catch {
      ex.req.resume();
      resolve({ kind: 'bad', why: 'expected multipart/form-data' });
      return;
    }
    const chunks: Buffer[] = [];
    let seen = false;
    let tooLarge = false;
    bb.on('file', (name, stream) => {
      if (name !== 'file' || seen) {
        stream.resume();
        return;
      }
      seen = true;
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        tooLarge = true;
        chunks.length = 0;
      });
    });
    bb.on('error', (error: unknown) => {
      ex.req.unpipe(bb);
      ex.req.resume();
      resolve({ kind: 'bad', why: error instanceof Error ? error.message : 'malformed multipart body' });
    });
    bb.on('close', () => {
      if (!seen) resolve({ kind: 'no-file' });
      else if (tooLarge) resolve({ kind: 'too-large' });
      else resolve({ kind: 'file', bytes: Buffer.concat(chunks) });
    });
    ex.req.pipe(bb);
  });
}
