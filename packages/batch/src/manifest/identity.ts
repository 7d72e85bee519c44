import { createHash } from 'node:crypto';
import { TASK_TYPE } from '@flf2v/core/rules';
import type { FrameRef, TaskParams } from './types.js';

/**
 * A task's identity is what is sent, never where it sits in the manifest: reordering or adding rows keeps every
 * key, editing a row makes a new one. Bump KEY_VERSION only if the canonical form below must change (every
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

export function taskKey(params: TaskParams, image: FrameRef, lastImage: FrameRef): string {
  const sent = {
    v: KEY_VERSION,
    selected_model: params.selected_model,
    task_type: TASK_TYPE,
    image: frameIdentity(image),
    last_image: frameIdentity(lastImage),
    prompt: params.prompt,
    negative_prompt: params.negative_prompt,
    resolution: params.resolution,
    aspect_ratio: params.aspect_ratio,
    duration: params.duration,
    number_of_videos: params.number_of_videos,
    // Absent and false send the same request.
    need_expand_prompt: params.need_expand_prompt ?? false,
  };
  return createHash('sha256').update(canonicalJson(sent)).digest('hex');
}
