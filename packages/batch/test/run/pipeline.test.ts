import { describe, expect, it } from 'vitest';
import { fileBackend } from '../../src/state/backend.js';
import { bench, kindsOf } from './_pipeline.js';

/** The pipeline's stages and task policy, in-process against the real simulator (see `_pipeline.ts`). */

/** The client makes one attempt per call, so each failure reaches the task policy. */
const ONE_ATTEMPT = {
  retry: {
    submit: { attempts: 1 },
    query: { attempts: 1 },
    upload: { attempts: 1 },
    download: { attempts: 1 },
  },
};

describe('stages', () => {
  it('moves a task through upload, submit, poll, result and download, journaling each step', async () => {
    const b = await bench(1);
    const { outcome, records, pipeline, store } = await b.session();
    expect(outcome).toEqual({ interrupted: false });
    const key = b.plan.tasks[0]!.key;
    expect(kindsOf(records, key)).toEqual(['planned', 'intent', 'submitted', 'completed', 'downloaded']);
    // Both frames uploaded (once each) before the intent.
    const uploaded = records.filter((r) => r.t === 'uploaded');
    expect(uploaded).toHaveLength(2);
    expect(records.indexOf(uploaded[1]!)).toBeLessThan(records.findIndex((r) => r.t === 'intent'));
    expect(store.state.tasks.get(key)?.phase).toBe('succeeded');
    // Nothing is left in the live view once the run is over.
    expect(pipeline.live.stageOf(key)).toBeUndefined();
    expect(b.sim.ledger().submissions.accepted).toHaveLength(1);
  });

  it('many tasks sharing frames upload each frame once', async () => {
    const b = await bench(12);
    const { records } = await b.session();
    expect(records.filter((r) => r.t === 'uploaded')).toHaveLength(2);
    expect(records.filter((r) => r.t === 'downloaded')).toHaveLength(12);
  });
});

describe('the task policy', () => {
  it('a struggling provider never fails a task: 503s on status and downloads are waited out', async () => {
    const b = await bench(2, {
      client: ONE_ATTEMPT,
      sim: {
        faults: [
          { kind: 'http-5xx', endpoints: 'status', count: 12 },
          { kind: 'http-5xx', endpoints: 'download', count: 12 },
        ],
      },
    });
    const { store } = await b.session();
    expect([...store.state.tasks.values()].map((t) => t.phase)).toEqual(['succeeded', 'succeeded']);
    expect(b.sim.ledger().faults.byKind['http-5xx']).toBe(24);
  });

  it('answers that keep arriving broken fail the task after brokenInRow (8), with the code they came with', async () => {
    const b = await bench(1, {
      client: ONE_ATTEMPT,
      sim: { faults: [{ kind: 'non-json', endpoints: 'result' }] },
    });
    const { store } = await b.session();
    const task = [...store.state.tasks.values()][0]!;
    expect(task.phase).toBe('failed');
    expect(task.failedStage).toBe('result');
    expect(task.error?.code).toBe('E_BAD_RESPONSE');
    expect(b.sim.ledger().requests.counts.result).toBe(8);
  });

  it('a refusal before the provider has the task fails it at once (moderation: one submit)', async () => {
    const b = await bench(1, { prompt: () => 'refused [sim:moderation]' });
    const { store } = await b.session();
    const task = [...store.state.tasks.values()][0]!;
    expect([task.phase, task.failedStage, task.error?.code]).toEqual(['failed', 'submit', 'E_MODERATION']);
    expect(b.sim.ledger().submissions.rejected.moderation).toBe(1);
  });

  it('a refusal about a task the provider has is confirmed (3 times) before the task fails', async () => {
    const b = await bench(1, { client: ONE_ATTEMPT });
    // The provider forgets the task between submit and poll: "task not found" (a business error).
    b.sim.update({
      faults: [{ kind: 'business-error', endpoints: 'status', code: 40004, message: 'task not found' }],
    });
    const { store } = await b.session();
    const task = [...store.state.tasks.values()][0]!;
    expect([task.phase, task.failedStage, task.error?.code]).toEqual(['failed', 'poll', 'E_PROVIDER']);
    expect(b.sim.ledger().requests.counts.status).toBe(3);
  });

  it('a submit whose answer is lost is unknown and not re-sent; --resubmit-unknown sends it, counted', async () => {
    const b = await bench(1, { sim: { faults: [{ kind: 'reset-after', endpoints: 'submit', count: 1 }] } });
    let { store } = await b.session();
    const key = b.plan.tasks[0]!.key;
    expect(store.state.tasks.get(key)?.phase).toBe('unknown');
    expect(b.sim.ledger().submissions.accepted).toHaveLength(1);
    ({ store } = await b.session());
    expect(store.state.tasks.get(key)?.phase).toBe('unknown');
    expect(b.sim.ledger().submissions.accepted).toHaveLength(1);
    ({ store } = await b.session({ resubmitUnknown: true }));
    expect(store.state.tasks.get(key)?.phase).toBe('succeeded');
    expect(store.state.tasks.get(key)?.sent).toEqual([1, 2]);
  });

  it('a wrong key stops the whole run at the first call (fatal), every task kept as it was', async () => {
    const b = await bench(3, { sim: { key: 'sk-the-only-accepted-key-000000' } });
    const { outcome, store } = await b.session();
    expect(outcome.fatal?.code).toBe('E_AUTH');
    expect([...store.state.tasks.values()].every((t) => t.phase === 'planned')).toBe(true);
  });
});

describe('stop and resume', () => {
  it('a stop lets calls settle and leaves the rest; the next session finishes, each task sent once', async () => {
    const b = await bench(8, { sim: { timings: { runningMs: 400 } } });
    const first = await b.session({
      maxInFlight: 2,
      during: (p) => {
        const timer = setInterval(() => {
          if (b.sim.ledger().submissions.accepted.length >= 2) {
            clearInterval(timer);
            p.stop();
          }
        }, 5);
      },
    });
    expect(first.outcome.interrupted).toBe(true);
    const phases = [...first.store.state.tasks.values()].map((t) => t.phase);
    expect(phases.filter((p) => p === 'succeeded').length).toBeLessThan(8);
    const second = await b.session({ maxInFlight: 2 });
    expect(second.outcome).toEqual({ interrupted: false });
    const state = await fileBackend.read(b.out);
    expect([...state.tasks.values()].every((t) => t.phase === 'succeeded')).toBe(true);
    expect(b.sim.ledger().submissions.accepted).toHaveLength(8);
    expect([...state.tasks.values()].every((t) => t.sent.length === 1)).toBe(true);
  });
});
