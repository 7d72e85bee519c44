import { coerceTaskField, DEFAULT_MODEL, validateGenerationRequest } from '@flf2v/core';
import { describe, expect, it } from 'vitest';

const valid = {
  selected_model: DEFAULT_MODEL,
  task_type: 'flf2video',
  input: {
    image: 'https://example.test/a.png',
    last_image: 'https://example.test/b.jpg',
    prompt: '小狗起身轻嗅',
    resolution: '1080p',
    duration: 5,
  },
};

describe('validateGenerationRequest', () => {
  it('accepts the seed example', () => {
    expect(validateGenerationRequest(valid)).toEqual([]);
  });

  it('reports every broken field at once, saying what was expected and found', () => {
    const issues = validateGenerationRequest({
      selected_model: '',
      task_type: 'text2video',
      input: {
        image: 'frames/a.png',
        last_image: 'ftp://x/b.png',
        prompt: ' ',
        resolution: '4k',
        duration: 7,
      },
    });
    expect(issues.map((i) => i.field)).toEqual([
      'selected_model',
      'task_type',
      'image',
      'last_image',
      'prompt',
      'resolution',
      'duration',
    ]);
    expect(issues.find((i) => i.field === 'duration')?.message).toBe('expected 5, 6 or 8, got 7');
  });
});

describe('coerceTaskField', () => {
  it('reads numbers and booleans from CSV text only when asked', () => {
    expect(coerceTaskField('duration', '6', { fromText: true })).toEqual({ ok: true, value: 6 });
    expect(coerceTaskField('duration', '6').ok).toBe(false);
    expect(coerceTaskField('need_expand_prompt', 'yes', { fromText: true })).toEqual({
      ok: true,
      value: true,
    });
  });

  it('counts prompt length in characters, not UTF-16 units', () => {
    expect(coerceTaskField('prompt', '😀'.repeat(2000)).ok).toBe(true);
    expect(coerceTaskField('prompt', '😀'.repeat(2001)).ok).toBe(false);
  });

  it('bounds number_of_videos to 1-4', () => {
    expect(coerceTaskField('number_of_videos', 0).ok).toBe(false);
    expect(coerceTaskField('number_of_videos', 4)).toEqual({ ok: true, value: 4 });
  });
});
