import type { StoredUpload, UploadLookup } from './_upload-store.js';
import type { LimitOptions } from './types.js';

/**
 * The submit body's rules (API.md §1), written here independently of @flf2v/core: the simulator stands in for
 * the provider, so a client bug that core's own validation shares must still be caught here.
 */
export interface Submission {
  model: string;
  prompt: string;
  resolution: string;
  duration: number;
  numberOfVideos: number;
  image: string;
  lastImage: string;
}

const RESOLUTIONS = ['720p', '1080p'];
const DURATIONS = [5, 6, 8];
const TASK_TYPE = 'flf2video';

export type SubmissionCheck = { ok: true; value: Submission } | { ok: false; problems: string[] };

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}

export function checkSubmission(body: unknown, limits: LimitOptions): SubmissionCheck {
  const problems: string[] = [];
  const bad = (field: string, expected: string, found: unknown) =>
    problems.push(`${field}: expected ${expected}, got ${show(found)}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: [`body: expected a JSON object, got ${show(body)}`] };
  }
  const b = body as Record<string, unknown>;
  if (typeof b.selected_model !== 'string' || b.selected_model.trim() === '') {
    bad('selected_model', 'a model name', b.selected_model);
  }
  if (b.task_type !== TASK_TYPE) bad('task_type', `"${TASK_TYPE}"`, b.task_type);
  if (b.need_expand_prompt !== undefined && typeof b.need_expand_prompt !== 'boolean') {
    bad('need_expand_prompt', 'true or false', b.need_expand_prompt);
  }
  if (b.async !== undefined && b.async !== true)
    bad('async', 'true (only asynchronous tasks exist)', b.async);
  const input = b.input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    bad('input', 'an object', input);
    return { ok: false, problems };
  }
  const i = input as Record<string, unknown>;
  for (const f of ['image', 'last_image'] as const) {
    if (!isHttpUrl(i[f])) bad(`input.${f}`, 'an http(s) URL of a png or jpg', i[f]);
  }
  if (typeof i.prompt !== 'string' || i.prompt.trim() === '') {
    bad('input.prompt', 'a non-empty prompt', i.prompt);
  } else if (codePoints(i.prompt) > limits.promptMaxChars) {
    bad('input.prompt', `at most ${limits.promptMaxChars} characters`, `${codePoints(i.prompt)} characters`);
  }
  if (i.negative_prompt !== undefined) {
    if (typeof i.negative_prompt !== 'string') bad('input.negative_prompt', 'a string', i.negative_prompt);
    else if (codePoints(i.negative_prompt) > limits.negativePromptMaxChars) {
      bad(
        'input.negative_prompt',
        `at most ${limits.negativePromptMaxChars} characters`,
        `${codePoints(i.negative_prompt)} characters`,
      );
    }
  }
  if (!RESOLUTIONS.includes(i.resolution as string))
    bad('input.resolution', '"720p" or "1080p"', i.resolution);
  if (!DURATIONS.includes(i.duration as number)) bad('input.duration', '5, 6 or 8', i.duration);
  if (i.aspect_ratio !== undefined && typeof i.aspect_ratio !== 'string') {
    bad('input.aspect_ratio', 'a string', i.aspect_ratio);
  }
  const n = i.number_of_videos ?? 1;
  if (!(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 4)) {
    bad('input.number_of_videos', 'a whole number from 1 to 4', i.number_of_videos);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      model: b.selected_model as string,
      prompt: i.prompt as string,
      resolution: i.resolution as string,
      duration: i.duration as number,
      numberOfVideos: n as number,
      image: i.image as string,
      lastImage: i.last_image as string,
    },
  };
}

const UPLOAD_PATH = /^\/files\/([0-9a-f]{64})\.(png|jpg)$/;

/** The upload behind a URL this simulator served, whatever host name the client used for it. */
export function uploadHashOf(url: string): string | undefined {
  try {
    return UPLOAD_PATH.exec(new URL(url).pathname)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Frames that point at this simulator's uploads must exist, and when both do, their aspect ratios must fit
 * the limits. URLs elsewhere cannot be fetched here and pass unchecked.
 */
export function checkFrames(
  image: string,
  lastImage: string,
  uploads: UploadLookup,
  limits: LimitOptions,
): { problems: string[]; frames: [StoredUpload, StoredUpload] | undefined } {
  const problems: string[] = [];
  const found: (StoredUpload | undefined)[] = [];
  for (const [field, url] of [
    ['input.image', image],
    ['input.last_image', lastImage],
  ] as const) {
    const hash = uploadHashOf(url);
    const upload = hash === undefined ? undefined : uploads.get(hash);
    if (hash !== undefined && upload === undefined) problems.push(`${field}: no uploaded file at ${url}`);
    found.push(upload);
  }
  const [a, b] = found;
  if (!a || !b) return { problems, frames: undefined };
  const ra = a.width / a.height;
  const rb = b.width / b.height;
  const range = limits.frameAspectRange;
  if (range) {
    for (const [field, r, u] of [
      ['input.image', ra, a],
      ['input.last_image', rb, b],
    ] as const) {
      if (r < range[0] || r > range[1]) {
        problems.push(
          `${field}: expected an aspect ratio (width/height) from ${range[0]} to ${range[1]}, got ${u.width}x${u.height}`,
        );
      }
    }
  }
  const pair = limits.framePairRatioRange;
  if (pair && (ra / rb < pair[0] || ra / rb > pair[1])) {
    problems.push(
      `input.last_image: expected an aspect ratio similar to the first frame's (ratio of ratios from ${pair[0]} to ${pair[1]}), got ${b.width}x${b.height} after ${a.width}x${a.height}`,
    );
  }
  return { problems, frames: [a, b] };
}
