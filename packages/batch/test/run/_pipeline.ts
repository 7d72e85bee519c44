import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from '@flf2v/core';
import { type Simulator, type SimulatorOptions, startSimulator } from '@flf2v/simulator';
import { afterEach } from 'vitest';
import { loadPlan } from '../../src/manifest/plan.js';
import type { Plan } from '../../src/manifest/types.js';
import { RunClock } from '../../src/run/clock.js';
import { Pipeline, type PipelineOptions, type RunOutcome } from '../../src/run/pipeline/driver.js';
import { fileBackend } from '../../src/state/backend.js';
import type { JournalRecord } from '../../src/state/records.js';
import type { StateStore } from '../../src/state/store.js';
import { tempDir } from '../_temp.js';

/**
 * The pipeline in-process, against the real simulator over loopback and a real journal in a temp directory:
 * no CLI, no stubbed fetch, no waiting on the task policy's backoff (its jitter is 0), so a test takes seconds.
 */

const FRAMES = fileURLToPath(new URL('../../../../jobs/frames/', import.meta.url));
export const KEY = 'sk-pipeline-test-0123456789abcdef';
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

const silent = { debug() {}, info() {}, warn() {}, error() {} };

export interface Bench {
  sim: Simulator;
  dir: string;
  out: string;
  plan: Plan;
  /** One session of the pipeline on `out`; `during` runs once it started (to stop it, say). */
  session(options?: Partial<PipelineOptions> & { during?: (p: Pipeline) => void }): Promise<Session>;
}

export interface Session {
  outcome: RunOutcome;
  pipeline: Pipeline;
  store: StateStore;
  /** The journal records this session appended. */
  records: JournalRecord[];
}

/** `rows` tasks sharing two frames, each with its own prompt (`prompt(i)`). */
export async function bench(
  rows: number,
  options: {
    sim?: SimulatorOptions;
    prompt?: (i: number) => string;
    client?: Partial<Parameters<typeof createClient>[0]>;
  } = {},
): Promise<Bench> {
  const dir = await tempDir('flf2v-pipeline-');
  await mkdir(join(dir, 'frames'));
  for (const f of ['dawn.png', 'noon.jpg']) await copyFile(join(FRAMES, f), join(dir, 'frames', f));
  const lines = ['id,image,last_image,prompt'];
  for (let i = 0; i < rows; i++) {
    lines.push(`shot-${i + 1},frames/dawn.png,frames/noon.jpg,"${options.prompt?.(i) ?? `shot ${i + 1}`}"`);
  }
  await writeFile(join(dir, 'tasks.csv'), `${lines.join('\n')}\n`);
  const plan = await loadPlan(join(dir, 'tasks.csv'));
  if (plan.summary.errors > 0) throw new Error(JSON.stringify(plan.problems));
  const sim = await startSimulator({
    seed: 3,
    ...options.sim,
    timings: { pendingMs: 0, runningMs: 150, jitterRatio: 0, ...options.sim?.timings },
    limits: { submit: null, query: null, maxRunningPerKey: null, ...options.sim?.limits },
  });
  closers.push(() => sim.close());
  const out = join(dir, 'out');
  let sessions = 0;
  return {
    sim,
    dir,
    out,
    plan,
    async session(o = {}) {
      sessions++;
      const store = await fileBackend.open(out, {
        create: { job: 'pipeline', manifestHash: 'm', tool: 'test' },
      });
      store.append({
        t: 'session',
        n: sessions,
        at: new Date().toISOString(),
        tool: 'test',
        manifestHash: 'm',
        manifest: 'tasks.csv',
        pid: process.pid,
        host: 'test',
        limits: {},
      });
      const client: Client = createClient({ apiKey: KEY, baseUrl: sim.url, ...options.client });
      const records: JournalRecord[] = [];
      const append = store.append.bind(store);
      store.append = (record) => {
        records.push(record);
        append(record);
      };
      const pipeline = new Pipeline({
        plan,
        outDir: out,
        store,
        client,
        logger: silent,
        clock: new RunClock({ spans: store.state.sessionSpans, session: sessions }),
        random: () => 0,
        ...o,
      });
      const running = pipeline.run();
      o.during?.(pipeline);
      const outcome = await running;
      await client.close();
      await store.close();
      return { outcome, pipeline, store, records };
    },
  };
}

/** The kinds of the records, in order, for one task key. */
export function kindsOf(records: JournalRecord[], key: string): string[] {
  return records.filter((r) => 'key' in r && r.key === key).map((r) => r.t);
}
