import type { TaskSummary } from '@flf2v/reporter';
import { describe, expect, it } from 'vitest';
import { filmOrder } from '../../src/film/shots.js';

/** Tasks in planning order, written `id:first>last` (a `'` after the id marks another version of it). */
function tasks(...specs: string[]): TaskSummary[] {
  return specs.map((spec, i) => {
    const [name, frames] = spec.split(':') as [string, string];
    const [image, last] = frames.split('>') as [string, string];
    return {
      id: name.replace(/'+$/, ''),
      key: `k${i}`,
      status: 'succeeded',
      attempts: 1,
      submissions: 1,
      timings: {},
      videos: [],
      request: {
        selected_model: 'm',
        prompt: spec,
        resolution: '720p',
        duration: 5,
        number_of_videos: 1,
        image: `../frames/${image}.png`,
        last_image: `../frames/${last}.png`,
      },
      frames: { image: `frames/${image}.png`, last_image: `frames/${last}.png` },
    };
  });
}

const order = (list: TaskSummary[]) => {
  const { shots, leftOut } = filmOrder(list);
  return { shots: shots.map((t) => t.request.prompt), leftOut: leftOut.map((t) => t.request.prompt) };
};

describe('filmOrder', () => {
  it('follows the chain of frames, whatever the ids and the order tasks were planned in', () => {
    expect(order(tasks('day-01:a>b', 'day-02:b>c', 'day-03:c>d'))).toEqual({
      shots: ['day-01:a>b', 'day-02:b>c', 'day-03:c>d'],
      leftOut: [],
    });
    expect(order(tasks('sunset:c>d', 'dawn:a>b', 'noon:b>c')).shots).toEqual([
      'dawn:a>b',
      'noon:b>c',
      'sunset:c>d',
    ]);
  });

  it('starts a day that ends where it began with its first shot, and visits a frame twice in order', () => {
    expect(
      order(tasks('day-01:dawn>noon', 'day-02:noon>dusk', 'day-03:dusk>night', 'day-04:night>dawn')).shots,
    ).toEqual(['day-01:dawn>noon', 'day-02:noon>dusk', 'day-03:dusk>night', 'day-04:night>dawn']);
    expect(order(tasks('s-01:a>b', 's-02:b>a', 's-03:a>b', 's-04:b>c')).shots).toEqual([
      's-01:a>b',
      's-02:b>a',
      's-03:a>b',
      's-04:b>c',
    ]);
  });

  it('takes the latest version of an edited shot, in its place', () => {
    // day-02's prompt edited, then day-01's picture replaced (a2): both new versions were planned last.
    const list = tasks('day-01:a>b', 'day-02:b>c', 'day-03:c>a', "day-02':b>c", "day-01':a2>b");
    expect(order(list)).toEqual({ shots: ["day-01':a2>b", "day-02':b>c", 'day-03:c>a'], leftOut: [] });
  });

  it('follows a frame inserted into the storyboard, and leaves out a shot whose frame was removed', () => {
    // x inserted between b and c: day-02 and day-03 are new tasks; c>d keeps the id it was planned under.
    const inserted = tasks('day-01:a>b', 'day-02:b>c', 'day-03:c>d', "day-02':b>x", "day-03':x>c");
    expect(order(inserted)).toEqual({
      shots: ['day-01:a>b', "day-02':b>x", "day-03':x>c", 'day-03:c>d'],
      leftOut: [],
    });
    // c removed: b>d replaces b>c; c>d is no longer part of the chain.
    const removed = tasks('day-01:a>b', 'day-02:b>c', 'day-03:c>d', "day-02':b>d");
    expect(order(removed)).toEqual({ shots: ['day-01:a>b', "day-02':b>d"], leftOut: ['day-03:c>d'] });
  });

  it('leaves out what does not chain (a batch of unrelated shots)', () => {
    expect(order(tasks('p-1:a>b', 'p-2:c>d', 'p-3:e>f'))).toEqual({
      shots: ['p-3:e>f'],
      leftOut: ['p-1:a>b', 'p-2:c>d'],
    });
    expect(order([])).toEqual({ shots: [], leftOut: [] });
  });
});
