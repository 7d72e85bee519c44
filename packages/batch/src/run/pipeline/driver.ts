import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@flf2v/core';
import type { Flf2vError } from '@flf2v/core/rules';
import type { ErrorCode } from '../../errors.js';
import { takeField, takeOf } from '../../manifest/take.js';
import type { FrameRef, Plan } from '../../manifest/types.js';
import type { FrameRecord } from '../../state/records.js';
import { submissionsOf } from '../../state/run-state.js';
import type { StateStore } from '../../state/store.js';
import { localIoError } from '../../util/local-io.js';
import type { RunClock } from '../clock.js';
import { copyFrames } from '../frame-copies.js';
import type { LiveView } from '../live-view.js';
import { missingVideos } from '../missing-videos.js';
import { DEFAULT_UPLOAD_MAX_AGE_MS, type UploadCache } from '../upload-cache.js';
import { idOwners } from '../video-paths.js';
import type { Logger, TaskRun } from './context.js';
import { Engine, type RunScope } from './engine.js';
import { FrameUrls } from './frames.js';
import { InFlight } from './in-flight.js';

export { STOP_GRACE_MS } from './engine.js';

export interface PipelineOptions {
  plan: Plan;
  outDir: string;
  store: StateStore;
  client: Client;
  logger: Logger;
  /** Session time (see `clock.ts`). */
  clock: RunClock;
  /** Tasks running at the provider at once. @default learned from the provider's refusals */
  maxInFlight?: number;
  /** Hard cap on videos requested in this run directory, unknown submissions counted as spent. */
  maxVideos?: number;
  /** Re-send tasks whose earlier submission may or may not have reached the provider. @default false */
  resubmitUnknown?: boolean;
  /** Re-run failed tasks (polling those with a taskId first). @default false */
  retryFailed?: boolean;
  /** A task running longer than this (session time) is parked as stalled. @default 30 minutes */
  taskTimeoutMs?: number;
  uploadCache?: UploadCache;
  /** Reuse uploaded frame URLs younger than this. @default 12 hours */
  uploadMaxAgeMs?: number;
  /** The jitter of the task policy's backoff, [0, 1); tests pass `() => 0` (no waiting). @default Math.random */
  random?: () => number;
}

export interface RunOutcome {
  interrupted: boolean;
  /** A problem that stopped the whole run (bad key, unwritable journal, full disk…). */
  fatal?: Flf2vError<ErrorCode>;
}

/**
 * One run directory's pipeline on the file backend: journals every planned task, prepares each for this session
 * and drives them all through the stages (see `Engine`), with one in-flight cap and one --max-videos budget for
 * the directory.
 */
export class Pipeline {
  private readonly engine: Engine;
  private readonly scope: RunScope;
  private readonly owners = new Map<string, string>();
  private videosSpent = 0;

  constructor(private readonly o: PipelineOptions) {
    this.engine = new Engine({ client: o.client, logger: o.logger, clock: o.clock, random: o.random });
    this.scope = {
      store: o.store,
      outDir: o.outDir,
      idOwners: this.owners,
      taskTimeoutMs: o.taskTimeoutMs ?? 30 * 60_000,
      inFlight: new InFlight(o.maxInFlight, () => o.clock.now(), o.logger),
      frames: new FrameUrls(
        (sha) => o.store.state.uploads.get(sha),
        o.uploadMaxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS,
      ),
      uploadCache: o.uploadCache,
      budget:
        o.maxVideos === undefined
          ? undefined
          : {
              reserve: (videos) => {
                if (this.videosSpent + videos > o.maxVideos!) return false;
                this.videosSpent += videos;
                return true;
              },
              refund: (videos) => {
                this.videosSpent -= videos;
              },
            },
      resubmitUnknown: o.resubmitUnknown,
      retryFailed: o.retryFailed,
    };
  }

  /** What each task is doing right now (progress and reports read it). */
  get live(): LiveView {
    return this.engine.live;
  }

  get stopping(): boolean {
    return this.engine.stopping;
  }

  stop(): void {
    this.engine.stop();
  }

  abort(): void {
    this.engine.abort();
  }

  wake(): void {
    this.engine.wake();
  }

  /** Journal every planned task, decide what each needs this session, and run until nothing is left to do. */
  async run(): Promise<RunOutcome> {
    const state = this.o.store.state;
    const ctx = this.engine.contextFor(this.scope);
    const now = new Date().toISOString();
    const planned = new Map(this.o.plan.tasks.map((t) => [t.key, t]));
    let record: (frame: FrameRef) => FrameRecord;
    try {
      record = await copyFrames(this.o.plan, this.o.outDir, 'prepared');
    } catch (error) {
      this.engine.failRun(error);
      return this.outcome();
    }
    try {
      for (const task of this.o.plan.tasks) {
        if (state.tasks.has(task.key)) continue;
        ctx.append({
          t: 'planned',
          key: task.key,
          id: task.id,
          at: now,
          params: { ...task.params },
          image: record(task.image),
          last_image: record(task.last_image),
          ...takeField(takeOf(task)),
          ...(task.retake ? { retake: true } : {}),
        });
      }
    } catch {
      return this.outcome(); // the journal failed: the engine holds the error
    }
    for (const key of state.tasks.keys()) if (!planned.has(key)) this.live.removed.add(key);
    for (const [id, key] of idOwners(state.tasks.values())) this.owners.set(id, key);
    for (const t of state.tasks.values()) this.videosSpent += submissionsOf(t) * t.params.number_of_videos;
    const videos = join(this.o.outDir, 'videos');
    try {
      await mkdir(videos, { recursive: true });
    } catch (error) {
      this.engine.failRun(localIoError(`cannot create ${videos}`, error));
      return this.outcome();
    }
    // A finished task of this plan whose video is no longer on disk is downloaded again (fresh URLs): paid for.
    const finished = [...state.tasks.values()].filter((t) => t.phase === 'succeeded' && planned.has(t.key));
    try {
      for (const task of finished) {
        for (const index of await missingVideos(task, this.o.outDir)) {
          this.o.logger.info(
            { key: task.key, id: task.id, index },
            'video missing from disk; fetching it again',
          );
          ctx.append({ t: 'video_missing', key: task.key, index, at: new Date().toISOString() });
        }
      }
    } catch {
      return this.outcome(); // the journal failed: the engine holds the error
    }
    const runs: TaskRun[] = [];
    for (const task of state.tasks.values()) {
      const run = this.engine.prepare(task, planned.get(task.key), this.scope, ctx);
      if (run) runs.push(run);
    }
    await Promise.all(runs.map((run) => this.engine.drive(run, ctx)));
    await this.engine.idle();
    await this.o.uploadCache?.flush();
    return this.outcome();
  }

  private outcome(): RunOutcome {
    const fatal = this.engine.fatal;
    return fatal ? { interrupted: false, fatal } : { interrupted: this.stopping };
  }
}
