import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isHttpUrl } from '@flf2v/core/rules';
import { imageSize } from 'image-size';
import { inspectImage, swapsSides } from './image-check.js';
import type { FileLocator, Located } from './locate.js';
import type { ProblemKind } from './problems.js';
import type { FrameRef } from './types.js';

/** Provider limits a frame is checked against (API.md "Limits commonly enforced"). */
export const DEFAULT_IMAGE_MAX_BYTES = 20 * 1024 * 1024;
/** Each frame's width:height must lie within 1:4 … 4:1. */
export const MIN_FRAME_ASPECT = 1 / 4;
export const MAX_FRAME_ASPECT = 4;

/**
 * One distinct frame (a file by absolute path, or a URL), shared by every task that uses it, so each file is
 * read, hashed and measured once however many rows name it.
 */
export interface FrameEntry {
  /** As first written in the manifest. */
  display: string;
  /** Set once measured (files) or at once (URLs). */
  ref?: FrameRef;
  /** Set when the file cannot be used. */
  problem?: { kind: ProblemKind; text: string };
  /** Set when the file was found under another spelling of its path (a warning, reported like a problem). */
  note?: { kind: ProblemKind; text: string };
  /** The problem was reported (once, at the first task that uses the frame). */
  reported?: boolean;
}

type Measured = { ref: FrameRef } | { problem: { kind: ProblemKind; text: string } };
type Problem = { problem: { kind: ProblemKind; text: string } };

const SCHEME = /^[a-z][a-z0-9+.-]+:\/\//i;

/** `20,971,521 bytes (20.0 MB)`: exact, because a limit is often missed by a few bytes. */
export function formatBytes(bytes: number): string {
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  return bytes < 1024 * 1024 ? exact : `${exact} (${(bytes / (1024 * 1024)).toFixed(1)} MB)`;
}

function sniffFormat(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** What a non-PNG/JPEG file looks like, for the message. */
function describeOther(bytes: Uint8Array): string {
  try {
    const type = imageSize(bytes).type;
    if (type) return `a ${type.toUpperCase()} image`;
  } catch {
    // not an image format image-size knows
  }
  const head = Buffer.from(bytes.subarray(0, 512)).toString('utf8');
  return /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(head) ? 'text' : 'unrecognised bytes';
}

async function measure(path: string, display: string, maxBytes: number): Promise<Measured> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return {
      problem: { kind: 'frame-missing', text: `frame file not found: ${display} (looked for ${path})` },
    };
  }
  if (size > maxBytes) {
    const text = `${display} is ${formatBytes(size)}; the provider accepts frames of at most ${formatBytes(maxBytes)}`;
    return { problem: { kind: 'frame-too-large', text } };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { problem: { kind: 'frame-missing', text: `cannot read ${display}: ${reason}` } };
  }
  const format = sniffFormat(bytes);
  if (format === undefined) {
    const found = bytes.length === 0 ? 'an empty file' : describeOther(bytes);
    return {
      problem: { kind: 'frame-format', text: `${display}: expected a PNG or JPEG image, found ${found}` },
    };
  }
  const inspection = inspectImage(bytes, format);
  if (!inspection.ok) return { problem: { kind: inspection.kind, text: `${display}: ${inspection.text}` } };
  const { facts } = inspection;
  if (!(facts.width > 0 && facts.height > 0)) {
    const text = `${display}: a ${format.toUpperCase()} file whose dimensions cannot be read (truncated or damaged?)`;
    return { problem: { kind: 'frame-format', text } };
  }
  // Shapes are judged as the user sees the picture: a phone's portrait photo is often stored landscape.
  const turned = swapsSides(facts.orientation);
  const width = turned ? facts.height : facts.width;
  const height = turned ? facts.width : facts.height;
  const aspect = width / height;
  if (aspect < MIN_FRAME_ASPECT || aspect > MAX_FRAME_ASPECT) {
    const text = `${display} is ${width}×${height} (aspect ${aspect.toFixed(2)}); expected an aspect ratio from 1:4 to 4:1`;
    return { problem: { kind: 'frame-aspect', text } };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const ref: FrameRef = { kind: 'file', path, display, sha256, bytes: bytes.length, format, width, height };
  if (facts.orientation !== 1) ref.orientation = facts.orientation;
  return { ref };
}

function notFound(display: string, located: Extract<Located, { found: false }>): Problem {
  if (located.kind === 'not-a-file')
    return { problem: { kind: 'frame-missing', text: `${display} is not a file (${located.path})` } };
  const hint = located.hint === undefined ? '' : `; ${located.hint}`;
  return {
    problem: {
      kind: 'frame-missing',
      text: `frame file not found: ${display} (looked for ${located.path})${hint}`,
    },
  };
}

/**
 * Resolves frame references and measures each distinct file once (cached by absolute path), a few at a time.
 */
export class FrameStore {
  private readonly byWriting = new Map<string, FrameEntry>();
  private readonly byPath = new Map<string, FrameEntry>();
  private readonly pending: Promise<void>[] = [];
  private readonly queue: (() => Promise<void>)[] = [];
  private active = 0;

  constructor(
    private readonly locator: FileLocator,
    private readonly maxBytes: number = DEFAULT_IMAGE_MAX_BYTES,
    private readonly concurrency = 8,
  ) {}

  /** A frame entry for a value as written (already a non-empty string), or why it cannot be one. */
  resolve(value: string, baseDir: string): FrameEntry | string {
    const cacheKey = `${baseDir}\u0000${value}`;
    const known = this.byWriting.get(cacheKey);
    if (known) return known;
    let entry: FrameEntry;
    if (/^data:/i.test(value)) {
      return 'expected a file path or an http(s) URL, got a data: URL (save the image to a file and give its path)';
    }
    if (SCHEME.test(value)) {
      if (!isHttpUrl(value)) return `expected a file path or an http(s) URL, got ${JSON.stringify(value)}`;
      entry = { display: value, ref: { kind: 'url', url: value } };
    } else {
      const path = resolve(baseDir, value);
      entry = this.byPath.get(path) ?? this.load(baseDir, path, value);
    }
    this.byWriting.set(cacheKey, entry);
    return entry;
  }

  /** Resolves when every frame resolved so far has been measured. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }

  private load(baseDir: string, path: string, display: string): FrameEntry {
    const entry: FrameEntry = { display };
    this.byPath.set(path, entry);
    this.pending.push(
      new Promise<void>((done) => {
        this.queue.push(async () => {
          try {
            const located = await this.locator.locate(baseDir, display);
            if (located.found && located.note)
              entry.note = { kind: 'path-spelling', text: `${display}: ${located.note}` };
            const measured = located.found
              ? await measure(located.path, display, this.maxBytes)
              : notFound(display, located);
            if ('ref' in measured) entry.ref = measured.ref;
            else entry.problem = measured.problem;
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            entry.problem = { kind: 'frame-missing', text: `cannot read ${display}: ${reason}` };
          } finally {
            done();
          }
        });
        this.pump();
      }),
    );
    return entry;
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active++;
      void job().finally(() => {
        this.active--;
        this.pump();
      });
    }
  }
}
