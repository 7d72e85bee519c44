import { createHash } from 'node:crypto';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { statusError } from './_classify.js';
import { apiError, Exchange } from './_exchange.js';
import { transportError } from './_http.js';
import { finish, fsError, hashExisting, openPart, probePart } from './_part-file.js';
import { type RetryHooks, withRetry } from './_retry.js';
import type { RetryOptions, TimeoutOptions } from './options.js';
import { redactUrl } from './redact.js';
import type { DownloadResult } from './types.js';

/**
 * Downloading a result video so that a crash never leaves a file that looks finished but is not:
 *
 * bytes stream into `<dest>.part` while being hashed; the length is checked against what the server announced;
 * the part file is fsynced, renamed over `<dest>` (atomic on one filesystem) and the directory fsynced so the
 * rename itself survives a power cut (`_dirsync.ts` shares one directory fsync among concurrent downloads). A `.part` left by an earlier attempt — or an earlier process — is
 * resumed with `Range: bytes=<size>-`; a server that ignores the range (200) or answers with another start
 * restarts it from zero. Within one call, `If-Range` with the first answer's validator guards against the file
 * changing between attempts; across processes no validator survives, so a resumed file relies on result
 * videos being immutable (they are: a task's outputs never change).
 *
 * The key is only sent to the provider's own origin: result URLs are usually signed URLs on a CDN.
 */

export interface DownloadContext {
  dispatcher: Dispatcher;
  timeouts: Readonly<TimeoutOptions>;
  retry: Readonly<RetryOptions>;
  hooks: RetryHooks;
  secrets: readonly string[];
  /** The origin that gets `authorization` (the provider's own). */
  authOrigin: string;
  authorization: string;
  userAgent: string;
}

const MAX_REDIRECTS = 5;
const SNIPPET_BYTES = 8 * 1024;

interface Validator {
  value?: string;
}

async function snippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= SNIPPET_BYTES) {
        body.destroy();
        break;
      }
    }
  } catch {
    // The status decides; a body we cannot read adds nothing.
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An HTML or JSON body (whatever its Content-Type claims): video containers start with binary headers. */
function looksLikeText(chunk: Buffer): boolean {
  let i = 0;
  while (
    i < chunk.length &&
    i < 64 &&
    (chunk[i] === 0x20 || chunk[i] === 0x0a || chunk[i] === 0x0d || chunk[i] === 0x09)
  )
    i++;
  const c = chunk[i];
  return c === 0x3c /* < */ || c === 0x7b /* { */ || c === 0x5b /* [ */;
}

/** `bytes START-END/TOTAL` → start and total (undefined total for `*`). */
function contentRange(value: unknown): { start?: number; total?: number } {
  const m = typeof value === 'string' ? /^\s*bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)\s*$/i.exec(value) : null;
  if (!m) return {};
  return {
    start: m[1] === undefined ? undefined : Number(m[1]),
    total: m[2] === '*' || m[2] === undefined ? undefined : Number(m[2]),
  };
}

function lengthOf(value: unknown): number | undefined {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
}

async function attempt(
  ctx: DownloadContext,
  ex: Exchange,
  url: string,
  dest: string,
  validator: Validator,
  signal: AbortSignal | undefined,
): Promise<DownloadResult> {
  const part = `${dest}.part`;
  let probe: Awaited<ReturnType<typeof probePart>>;
  try {
    probe = await probePart(part);
  } catch (error) {
    throw fsError(ex, 'cannot read the part file', error);
  }
  const { offset } = probe;
  // Until the body is being written, every way out closes the fresh part file (left empty: harmless).
  let fresh = probe.fresh;
  try {
    return await exchange(ctx, ex, url, dest, part, offset, validator, signal, () => {
      const handle = fresh;
      fresh = undefined;
      return handle;
    });
  } finally {
    await fresh?.close().catch(() => {});
  }
}

async function exchange(
  ctx: DownloadContext,
  ex: Exchange,
  url: string,
  dest: string,
  part: string,
  offset: number,
  validator: Validator,
  signal: AbortSignal | undefined,
  takeFresh: () => FileHandle | undefined,
): Promise<DownloadResult> {
  let target = new URL(url);
  let res: Dispatcher.ResponseData;
  let authSent = false;
  for (let redirects = 0; ; redirects++) {
    authSent = target.origin === ctx.authOrigin;
    const headers: Record<string, string> = { 'user-agent': ctx.userAgent, 'accept-encoding': 'identity' };
    if (authSent) headers.authorization = ctx.authorization;
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      if (validator.value) headers['if-range'] = validator.value;
    }
    try {
      res = await ctx.dispatcher.request({
        origin: target.origin,
        path: target.pathname + target.search,
        method: 'GET',
        headers,
        signal,
        headersTimeout: ctx.timeouts.headersMs,
        bodyTimeout: ctx.timeouts.bodyMs,
      });
    } catch (error) {
      throw transportError(ex, error, signal);
    }
    ex.status = res.statusCode;
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
      await res.body.dump();
      if (redirects >= MAX_REDIRECTS)
        throw apiError(ex, 'E_BAD_RESPONSE', `more than ${MAX_REDIRECTS} redirects`, 'maybe');
      const next = URL.canParse(location, target.href) ? new URL(location, target) : undefined;
      if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
        throw apiError(ex, 'E_BAD_RESPONSE', 'redirected to something that is not an http(s) URL', 'maybe', {
          status: res.statusCode,
          retryable: false,
        });
      }
      target = next;
      continue;
    }
    break;
  }
  const status = res.statusCode;
  if (status === 416 && offset > 0) {
    // The part may already be whole (a crash between the last byte and the rename).
    const { total } = contentRange(res.headers['content-range']);
    await res.body.dump();
    if (total === offset) {
      const hash = createHash('sha256');
      let handle: FileHandle;
      try {
        await hashExisting(hash, part, offset);
        handle = await open(part, 'r+');
      } catch (error) {
        throw fsError(ex, 'cannot read the part file', error);
      }
      const got = { bytes: offset, sha256: hash.digest('hex') };
      await finish(ex, part, dest, handle, got);
      return got;
    }
    await unlink(part).catch(() => {});
    throw apiError(
      ex,
      'E_DOWNLOAD',
      `the server refused to resume at byte ${offset} (HTTP 416); restarting`,
      'maybe',
      { status },
    );
  }
  if (status !== 200 && status !== 206) {
    const text = await snippet(res.body);
    const detail = { status, body: text };
    if (status === 403 || status === 404 || status === 410 || (status === 401 && !authSent)) {
      throw apiError(
        ex,
        'E_URL_EXPIRED',
        `the result URL was refused (HTTP ${status}); ask for the result again`,
        'refused',
        detail,
      );
    }
    throw statusError(
      ex,
      { status, headers: res.headers, text },
      { isModeration: () => false, isRateLimit: () => false },
    );
  }

  // A gateway's error page or a JSON error answered with 200 is not a video: never save it as one.
  const contentType = String(res.headers['content-type'] ?? '').toLowerCase();
  if (/^(text\/|application\/(json|xml|problem))/.test(contentType)) {
    const text = await snippet(res.body);
    throw apiError(ex, 'E_DOWNLOAD', `expected a video, got ${contentType.split(';')[0]}`, 'maybe', {
      status,
      body: text,
    });
  }

  let start = 0;
  let expected = lengthOf(res.headers['content-length']);
  if (status === 206) {
    const range = contentRange(res.headers['content-range']);
    if (range.start !== offset) {
      await res.body.dump().catch(() => {});
      await unlink(part).catch(() => {});
      throw apiError(
        ex,
        'E_DOWNLOAD',
        `asked for bytes from ${offset}, got a range starting at ${range.start ?? '?'}; restarting`,
        'maybe',
        {
          status,
        },
      );
    }
    start = offset;
    expected = range.total ?? (expected === undefined ? undefined : offset + expected);
  }
  if (!validator.value) {
    const etag = res.headers.etag;
    const lastModified = res.headers['last-modified'];
    if (typeof etag === 'string' && !etag.startsWith('W/')) validator.value = etag;
    else if (typeof lastModified === 'string') validator.value = lastModified;
  }

  const hash = createHash('sha256');
  let handle: FileHandle;
  try {
    if (start > 0) await hashExisting(hash, part, start);
    const fresh = takeFresh();
    handle = fresh ?? (await openPart(part, start > 0 ? 'a' : 'w'));
  } catch (error) {
    await res.body.dump().catch(() => {});
    throw fsError(ex, 'cannot open the part file', error);
  }
  let written = start;
  let notVideo: Buffer | undefined;
  try {
    let first = start === 0;
    for await (const chunk of res.body) {
      if (first) {
        first = false;
        if (looksLikeText(chunk as Buffer)) {
          notVideo = chunk as Buffer;
          break;
        }
      }
      hash.update(chunk as Buffer);
      await handle.write(chunk as Buffer);
      written += (chunk as Buffer).length;
    }
  } catch (error) {
    await handle.close();
    // What arrived is on disk; the next attempt resumes from there.
    if ((error as { syscall?: string }).syscall === 'write')
      throw fsError(ex, 'cannot write the part file', error);
    throw transportError(ex, error, signal);
  }
  if (notVideo) {
    await handle.close();
    await unlink(part).catch(() => {});
    throw apiError(ex, 'E_DOWNLOAD', 'expected a video, got a text document', 'maybe', {
      status,
      body: notVideo.subarray(0, 512).toString('utf8'),
    });
  }
  if (expected !== undefined && written !== expected) {
    await handle.close();
    if (written > expected) await unlink(part).catch(() => {});
    throw apiError(ex, 'E_DOWNLOAD', `received ${written} bytes, the server announced ${expected}`, 'maybe', {
      status,
    });
  }
  const got = { bytes: written, sha256: hash.digest('hex') };
  await finish(ex, part, dest, handle, got);
  return got;
}

/** Download `url` to `dest` (see the module comment). Errors name the URL without its query string. */
export async function downloadToFile(
  ctx: DownloadContext,
  url: string,
  dest: string,
  signal: AbortSignal | undefined,
): Promise<DownloadResult> {
  const ex = new Exchange('download', 'download', 'GET', redactUrl(String(url)), ctx.secrets);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw apiError(ex, 'E_INVALID_REQUEST', 'expected an http(s) URL', 'not-sent');
  }
  if (typeof dest !== 'string' || dest === '')
    throw apiError(ex, 'E_INVALID_REQUEST', 'expected a destination path', 'not-sent');
  const validator: Validator = {};
  return withRetry(ex, ctx.retry, ctx.hooks, signal, () => attempt(ctx, ex, url, dest, validator, signal));
}
