import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { apiError, type Exchange } from './_exchange.js';
import type { UploadInput } from './types.js';

/**
 * The upload body, built once per call and re-sent as is by retries: `multipart/form-data` with the frame in
 * field `file` (API.md §2). The image type is sniffed from the bytes: the provider takes png and jpg only.
 */

export interface UploadPayload {
  body: Buffer;
  /** The request's Content-Type, with the boundary. */
  contentType: string;
  filename: string;
  bytes: number;
}

export function sniffImageType(bytes: Uint8Array): 'image/png' | 'image/jpeg' | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return 'image/png';
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

function quote(name: string): string {
  return name.replace(/["\\\r\n]/g, '_');
}

export async function buildUploadPayload(
  ex: Exchange,
  input: UploadInput | string | Uint8Array,
): Promise<UploadPayload> {
  const spec: UploadInput =
    typeof input === 'string' || input instanceof Uint8Array ? { file: input } : input;
  let bytes: Uint8Array;
  if (typeof spec.file === 'string') {
    try {
      bytes = await readFile(spec.file);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      throw apiError(
        ex,
        'E_INVALID_REQUEST',
        `cannot read ${JSON.stringify(spec.file)} (${code})`,
        'not-sent',
        { cause: error },
      );
    }
  } else if (spec.file instanceof Uint8Array) {
    bytes = spec.file;
  } else {
    throw apiError(ex, 'E_INVALID_REQUEST', 'expected a file path or bytes', 'not-sent');
  }
  const sniffed = sniffImageType(bytes);
  const type = spec.contentType ?? sniffed;
  if (type !== undefined && !/^[\w.+-]+\/[\w.+-]+$/.test(type)) {
    throw apiError(
      ex,
      'E_INVALID_REQUEST',
      `expected a MIME type such as image/png, got ${JSON.stringify(type)}`,
      'not-sent',
    );
  }
  if (!type) {
    throw apiError(
      ex,
      'E_INVALID_REQUEST',
      `expected a png or jpg image, got ${bytes.length} bytes of something else`,
      'not-sent',
    );
  }
  const ext = type === 'image/png' ? '.png' : '.jpg';
  const filename = spec.filename ?? (typeof spec.file === 'string' ? basename(spec.file) : `frame${ext}`);
  const boundary = `----flf2v${randomUUID().replaceAll('-', '')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(filename)}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Buffer.concat([head, bytes, tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
    filename,
    bytes: bytes.length,
  };
}
