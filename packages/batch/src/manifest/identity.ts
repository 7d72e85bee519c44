import { createHash } from 'node:crypto';
import { type GenerationInput, type GenerationRequest, TASK_TYPE } from '@flf2v/core/rules';
import type { FrameRef, TaskParams } from './types.js';

/**
 * A task's identity is what is sent, never where it sits in the manifest: reordering or adding rows keeps every
 * key, editing a row makes a new one. The one thing in it that is not sent is the take: a shot generated again
 * is another task with the same request. Bump KEY_VERSION only if the canonical form below must change (every
 * earlier run would then redo its tasks).
 */
const KEY_VERSION = 1;

function frameIdentity(frame: FrameRef): string {
  return frame.kind === 'file' ? `sha256:${frame.sha256}` : `url:${frame.url}`;
}

/** JSON with keys sorted and undefined members left out, so equal values always hash equally. */
export function canonicalJson(value: Record<string, unknown>): string {
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k])}`).join(',')}}`;
}

/**
 * What a task sends, as the request body: the one definition the submit and the task key are both made from.
 * `image` and `lastImage` are the frames' URLs (for the key: their identities, `sha256:…` or `url:…`). Fields
 * left at the API's defaults are left out, as the provider documents them (API.md §1).
 */
export function generationRequest(params: TaskParams, image: string, lastImage: string): GenerationRequest {
  const input: GenerationInput = {
    image,
    last_image: lastImage,
    prompt: params.prompt,
    resolution: params.resolution,
    duration: params.duration,
  };
  if (params.negative_prompt !== undefined) input.negative_prompt = params.negative_prompt;
  if (params.aspect_ratio !== undefined) input.aspect_ratio = params.aspect_ratio;
  if (params.number_of_videos !== 1) input.number_of_videos = params.number_of_videos;
  const body: GenerationRequest = { selected_model: params.selected_model, task_type: TASK_TYPE, input };
  if (params.need_expand_prompt !== undefined) body.need_expand_prompt = params.need_expand_prompt;
  return body;
}

/**
 * sha256 (hex) of what `generationRequest` sends, with each frame's content instead of its URL, and the take
 * (a whole number from 1). Take 1 adds nothing, so its key is the key every earlier version computed.
 */
export function taskKey(params: TaskParams, image: FrameRef, lastImage: FrameRef, take = 1): string {
  const { input, need_expand_prompt, ...top } = generationRequest(
    params,
    frameIdentity(image),
    frameIdentity(lastImage),
  );
  const sent = {
    v: KEY_VERSION,
    ...top,
    ...input,
    // A default left out and the default written send the same request.
    number_of_videos: input.number_of_videos ?? 1,
    need_expand_prompt: need_expand_prompt ?? false,
    // Not sent: it only tells one generation of the same request from another.
    take: take > 1 ? take : undefined,
  };
  return createHash('sha256').update(canonicalJson(sent)).digest('hex');
}
