import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { imageSize } from 'image-size';
import { formatBytes } from './bytes.js';
import { inspectImage, swapsSides } from './image-check.js';
import type { PreparedFrameCache } from './prepare/cache.js';
import { checkContainer, FORMAT_NAMES, type SourceFormat, sniffFormat } from './prepare/formats.js';
import { type FrameOutcome, prepareFrame, reasonsToPrepare, type SourceFrame } from './prepare/frame.js';
import { type ResolvedPrepareOptions, SOURCE_MAX_BYTES } from './prepare/options.js';
import { loadSharp } from './prepare/render.js';
import type { FrameRef } from './types.js';

/**
 * Reading one frame file into what is sent: checked whole, measured as displayed, and, unless preparation is
 * off, converted, turned upright and fitted (`prepare/`). A PNG or JPEG that needs none of that is sent byte
 * for byte as it is, so its task key is the one flf2v 0.1 computed.
 */

/** Each frame's width:height must lie within 1:4 … 4:1. */
export const MIN_FRAME_ASPECT = 1 / 4;
export const MAX_FRAME_ASPECT = 4;

export interface MeasureSettings {
  /** The provider's limit on a frame as sent, bytes. */
  maxBytes: number;
  prepare: ResolvedPrepareOptions;
  cache: PreparedFrameCache;
}

/** What a file that is not an image flf2v reads looks like, for the message. */
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

/** Formats that are refused even with preparation on, and why. */
const REFUSED: Partial<Record<SourceFormat, string>> = {
  heic: 'a HEIC image (HEVC): its codec is not in the bundled image library; export it as JPEG (on an iPhone: Settings → Camera → Formats → Most Compatible)',
  svg: 'an SVG (vector) image: export it as PNG at the size the video should have',
};

/** `size`: the file's size when the caller has just looked it up. */
export async function measureFrame(
  path: string,
  display: string,
  settings: MeasureSettings,
  size?: number,
): Promise<FrameOutcome> {
  const read = await readSource(path, display, settings, size);
  if ('problem' in read) return read;
  const { source } = read;
  const reasons = settings.prepare.enabled ? reasonsToPrepare(source, settings.prepare) : [];
  const outcome =
    reasons.length > 0
      ? await prepareFrame(source, reasons, { options: settings.prepare, cache: settings.cache })
      : { ref: asSent(source) };
  return 'ref' in outcome ? checkAspect(outcome.ref) : outcome;
}

/** A frame file read, checked whole and measured (not yet prepared), or why it cannot be used. */
export async function readSource(
  path: string,
  display: string,
  settings: MeasureSettings,
  knownSize?: number,
): Promise<{ source: SourceFrame } | Extract<FrameOutcome, { problem: unknown }>> {
  const preparing = settings.prepare.enabled;
  const sizeLimit = preparing ? SOURCE_MAX_BYTES : settings.maxBytes;
  let size: number;
  try {
    size = knownSize ?? (await stat(path)).size;
  } catch {
    return {
      problem: { kind: 'frame-missing', text: `frame file not found: ${display} (looked for ${path})` },
    };
  }
  if (size > sizeLimit) {
    const what = preparing ? 'flf2v reads frames' : 'the provider accepts frames';
    const text = `${display} is ${formatBytes(size)}; ${what} of at most ${formatBytes(sizeLimit)}`;
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
  const strict = format === 'png' || format === 'jpeg';
  if (format === undefined || (!strict && !preparing) || REFUSED[format]) {
    return {
      problem: {
        kind: 'frame-format',
        text: `${display}: expected a PNG or JPEG image, found ${unusable(bytes, format)}`,
      },
    };
  }
  const facts = strict ? headerFacts(bytes, format) : await otherFacts(bytes, format);
  if (!facts.ok) return { problem: { kind: facts.kind, text: `${display}: ${facts.text}` } };
  const { width, height } = facts.facts;
  if (!(width > 0 && height > 0)) {
    const text = `${display}: a ${FORMAT_NAMES[format]} file whose dimensions cannot be read (truncated or damaged?)`;
    return { problem: { kind: 'frame-format', text } };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { source: { path, display, bytes, sha256, format, facts: facts.facts } };
}

/** What a file that cannot be a frame is, and what to do about it. */
function unusable(bytes: Buffer, format: SourceFormat | undefined): string {
  if (bytes.length === 0) return 'an empty file';
  if (format === undefined) return describeOther(bytes);
  const name = FORMAT_NAMES[format];
  const article = /^[AEIOU]/.test(name) ? 'an' : 'a';
  return (
    REFUSED[format] ??
    `${article} ${name} image (flf2v converts it unless preparation is off: drop --no-prepare or prepare: false)`
  );
}

/** A PNG or JPEG sent as it is: shaped as displayed (EXIF orientation), as 0.1 measured it. */
function asSent(source: SourceFrame): FrameRef {
  const { facts } = source;
  const turned = swapsSides(facts.orientation);
  const ref: FrameRef = {
    kind: 'file',
    path: source.path,
    display: source.display,
    sha256: source.sha256,
    bytes: source.bytes.length,
    format: source.format as 'png' | 'jpeg',
    width: turned ? facts.height : facts.width,
    height: turned ? facts.width : facts.height,
  };
  if (facts.orientation !== 1) ref.orientation = facts.orientation;
  return ref;
}

function checkAspect(ref: FrameRef): FrameOutcome {
  if (ref.kind !== 'file') return { ref };
  const aspect = ref.width / ref.height;
  if (aspect >= MIN_FRAME_ASPECT && aspect <= MAX_FRAME_ASPECT) return { ref };
  const text = `${ref.display} is ${ref.width}×${ref.height} (aspect ${aspect.toFixed(2)}); expected an aspect ratio from 1:4 to 4:1`;
  return { problem: { kind: 'frame-aspect', text } };
}

type Facts =
  | { ok: true; facts: SourceFrame['facts'] }
  | { ok: false; kind: 'frame-truncated' | 'frame-format'; text: string };

/** A PNG's or JPEG's facts, from walking its structure (which also says whether it is whole). */
function headerFacts(bytes: Buffer, format: 'png' | 'jpeg'): Facts {
  const inspection = inspectImage(bytes, format);
  if (!inspection.ok) return inspection;
  const { width, height, orientation, bitDepth, channels } = inspection.facts;
  return {
    ok: true,
    facts: { width, height, orientation, bitDepth, cmyk: format === 'jpeg' && channels === 4 },
  };
}

/** Header facts of a source that is not PNG or JPEG: whole (by its structure), and what sharp reads of it. */
async function otherFacts(bytes: Buffer, format: SourceFormat): Promise<Facts> {
  const problem = checkContainer(bytes, format);
  if (problem) return { ok: false, ...problem };
  if (format === 'bmp') {
    return {
      ok: true,
      facts: {
        width: bytes.readInt32LE(18),
        height: Math.abs(bytes.readInt32LE(22)),
        orientation: 1,
        bitDepth: 8,
        cmyk: false,
      },
    };
  }
  try {
    const meta = await (await loadSharp())(bytes, { failOn: 'error' }).metadata();
    const depth =
      meta.depth === 'ushort' || meta.depth === 'short'
        ? 16
        : meta.depth === 'uchar' || meta.depth === 'char'
          ? 8
          : 32;
    return {
      ok: true,
      facts: {
        width: meta.width ?? 0,
        height: meta.height ?? 0,
        orientation: meta.orientation ?? 1,
        bitDepth: depth,
        cmyk: meta.space === 'cmyk',
      },
    };
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return {
      ok: false,
      kind: 'frame-format',
      text: `cannot be read as ${FORMAT_NAMES[format]} (${reason}): damaged, or the file ends early (still copying?)`,
    };
  }
}
