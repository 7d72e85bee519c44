import { describe, expect, it } from 'vitest';
import { LiveView } from '../../src/run/live-view.js';
import { Progress } from '../../src/run/progress.js';
import { RunState } from '../../src/state/run-state.js';
import { lifecycle, planned } from '../state/_fixtures.js';

/** A run state with `done` succeeded tasks and `left` planned ones. */
function stateWith(done: number, left: number): RunState {
  const state = new RunState();
  for (let i = 0; i < done; i++) for (const r of lifecycle(`d${i}`)) state.apply(r);
  for (let i = 0; i < left; i++) state.apply(planned(`p${i}`));
  return state;
}

describe('progress: rate and ETA', () => {
  it('tasks that finished while no session ran are not this session’s pace', () => {
    let now = 0;
    const view = new LiveView();
    const progress = new Progress(view, stateWith(8, 4), {
      stream: process.stderr,
      tty: false,
      now: () => now,
    });
    progress.rate(view.counts(stateWith(0, 12)));
    // A resumed run: in its first second, 8 tasks were found finished at their first poll.
    now = 1_000;
    view.settledWhileAway = 8;
    const c = view.counts(stateWith(8, 4));
    const rate = progress.rate(c);
    // Without the correction this would read 8 tasks/s and an ETA of half a second.
    expect(rate).toBeLessThanOrEqual(0);
    expect(progress.line(c, rate)).toContain('ETA ?');
  });

  it('a sleep of the machine is not a slow minute: the rate uses the monotonic clock it is given', () => {
    let now = 0;
    const view = new LiveView();
    const progress = new Progress(view, stateWith(0, 10), {
      stream: process.stderr,
      tty: false,
      now: () => now,
    });
    progress.rate(view.counts(stateWith(0, 10)));
    now = 2_000;
    expect(progress.rate(view.counts(stateWith(4, 6)))).toBe(2);
  });
});
