import { Flf2vError } from '@flf2v/core/rules';
import { internalError } from '../../errors.js';
import type { FrameRef, PlannedTask } from '../../manifest/types.js';
import type { UploadState } from '../../state/run-state.js';
import { verdictOf } from '../policy.js';
import { call, failTask, retryAfterOf } from './call.js';
import type { FrameSource, Stage, StageContext, TaskRun } from './context.js';

type FileFrame = Extract<FrameRef, { kind: 'file' }>;

const STOPPED = () => new Flf2vError('E_ABORTED', 'the run is stopping', { retryable: false });

/**
 * The URL to send for each frame: a URL as given, or a file uploaded once per content hash and reused — from this
 * run directory's state while younger than `maxAgeMs` (uploaded URLs may expire at the provider), else from the
 * machine's upload cache, else uploaded now. Tasks needing the same frame share one upload.
 */
export class FrameUrls implements FrameSource {
  private readonly pending = new Map<string, Promise<string>>();
  /** Frames uploaded by this session: their URLs are certainly live. */
  private readonly fresh = new Set<string>();
  /** Frames whose reused URL the provider seems not to know any more: upload them again. */
  private readonly distrusted = new Set<string>();

  constructor(
    /** The upload of a frame (by content hash) recorded in the run's state, if any. */
    private readonly recorded: (sha256: string) => UploadState | undefined | Promise<UploadState | undefined>,
    /** Reuse URLs younger than this, in ms. */
    private readonly maxAgeMs: number,
  ) {}

  /**
   * @throws Flf2vError `E_ABORTED` when the run stops first; the upload's error when it fails the task; a fatal
   *   error as is.
   */
  async urlOf(frame: FrameRef, run: TaskRun, ctx: StageContext): Promise<string> {
    if (frame.kind === 'url') return frame.url;
    const known = this.distrusted.has(frame.sha256) ? undefined : await this.recorded(frame.sha256);
    if (known && Date.now() - Date.parse(known.at) <= this.maxAgeMs) return known.url;
    let pending = this.pending.get(frame.sha256);
    if (!pending) {
      pending = this.upload(frame, run, ctx);
      this.pending.set(frame.sha256, pending);
      // A failed upload is forgotten, so that the next task needing the frame tries again.
      pending.catch(() => this.pending.delete(frame.sha256));
    }
    return pending;
  }

  /** File frames of `plan` whose URL comes from an earlier session rather than this one's upload. */
  reused(plan: PlannedTask): string[] {
    const reused: string[] = [];
    for (const f of [plan.image, plan.last_image]) {
      if (f.kind === 'file' && !this.fresh.has(f.sha256)) reused.push(f.sha256);
    }
    return reused;
  }

  /** The provider refused URLs reused from an earlier session: upload those frames again. */
  distrust(shas: readonly string[]): void {
    for (const sha of shas) {
      // The first task to find out drops the memoized URL; later ones share its new upload.
      if (this.fresh.has(sha) || this.distrusted.has(sha)) continue;
      this.distrusted.add(sha);
      this.pending.delete(sha);
    }
  }

  private async upload(frame: FileFrame, run: TaskRun, ctx: StageContext): Promise<string> {
    const cached = this.distrusted.has(frame.sha256) ? undefined : ctx.uploadCache?.get(frame.sha256);
    if (cached) {
      // Keep the original upload time: the URL ages from then, not from this reuse.
      ctx.append({
        t: 'uploaded',
        sha256: frame.sha256,
        url: cached.url,
        at: new Date(cached.at).toISOString(),
      });
      return cached.url;
    }
    const retries = ctx.retries(false);
    for (;;) {
      const outcome = await call(ctx, 'upload', run, (signal) =>
        ctx.client.upload(
          { file: frame.path, contentType: frame.format === 'png' ? 'image/png' : 'image/jpeg' },
          { signal },
        ),
      );
      if (outcome.ok) {
        ctx.append({
          t: 'uploaded',
          sha256: frame.sha256,
          url: outcome.value.url,
          at: new Date().toISOString(),
        });
        ctx.uploadCache?.put(frame.sha256, outcome.value.url);
        this.fresh.add(frame.sha256);
        return outcome.value.url;
      }
      if (outcome.stopped) throw STOPPED();
      if (retries.fails(outcome.verdict)) throw outcome.error;
      ctx.logger.warn({ frame: frame.display, err: outcome.error.toJSON() }, 'upload failed; will retry');
      if (!(await ctx.pause(retries.delayMs(retryAfterOf(outcome.error))))) throw STOPPED();
    }
  }
}

/** Upload: a planned task gets the URLs of its two frames. */
export const uploadStage: Stage = {
  name: 'upload',
  accepts: (run) => run.task.phase === 'planned' && run.plan !== undefined && run.frameUrls === undefined,
  async run(run, ctx) {
    const plan = run.plan!;
    ctx.live.set(run.task.key, 'uploading');
    try {
      run.frameUrls = await Promise.all([
        ctx.frames.urlOf(plan.image, run, ctx),
        ctx.frames.urlOf(plan.last_image, run, ctx),
      ]);
      return 'next';
    } catch (thrown) {
      const error = internalError(thrown);
      if (error.code === 'E_ABORTED' || ctx.stopping()) return 'stopped';
      if (verdictOf(error.code) === 'fatal') throw error;
      return failTask(ctx, run, 'upload', error);
    }
  },
};
