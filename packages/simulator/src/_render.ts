import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Frame {
  bytes: Buffer;
  type: 'png' | 'jpg';
  width: number;
  height: number;
}

const RENDER_TIMEOUT_MS = 30_000;
/** The clip's longer side, px: small enough to render in a fraction of a second, large enough to watch. */
const LONG_SIDE = 320;
const FPS = 24;
/**
 * One colour description whatever the frames are (a JPEG decodes as full-range, centre-sited chroma; a PNG as
 * neither): clips of one storyboard then share their codec setup and join without re-encoding.
 */
const COLOR = 'setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709';
/** Part of every cache file name: a change to the recipe below must never serve clips made by the old one. */
const RECIPE = 'v3';

/**
 * The optional `render: 'ffmpeg'`: a clip of the task's duration that moves from the first frame to the last
 * (a crossfade under a slow pan), H.264 yuv420p with faststart, at the first frame's aspect ratio. Clips are
 * cached on disk per frame pair and duration (`cacheDir`), so rehearsals, restarted simulators and test runs
 * render each pair once. Renders run one at a time; any failure (no ffmpeg, odd input, a cache that cannot be
 * written) yields the rendered bytes without caching them, or undefined, and the caller falls back to the
 * shipped clip: ffmpeg is never required.
 */
export class ClipRenderer {
  private available: Promise<boolean> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Clips this process has (or is) rendering or reading, by cache name: a pair is never rendered twice. */
  private readonly clips = new Map<string, Promise<Buffer | undefined>>();
  private readonly children = new Set<ChildProcess>();
  private closed = false;

  constructor(private readonly cacheDir: string | null) {}

  /**
   * The clip for frames `pair` (upload sha256s) lasting `durationS` seconds: from the cache, else rendered from
   * `frames` when given. Undefined when neither can be had (a restored task whose clip was never cached).
   */
  clip(pair: readonly [string, string], durationS: number, frames?: readonly [Frame, Frame]) {
    const name = `${pair[0].slice(0, 16)}-${pair[1].slice(0, 16)}-${durationS}s-${RECIPE}.mp4`;
    let clip = this.clips.get(name);
    if (clip === undefined) {
      clip = this.enqueue(() => this.make(name, durationS, frames));
      this.clips.set(name, clip);
      // A miss without frames may be rendered later, once the frames are uploaded again.
      void clip.then((bytes) => {
        if (bytes === undefined) this.clips.delete(name);
      });
    }
    return clip;
  }

  close(): void {
    this.closed = true;
    for (const child of this.children) child.kill('SIGKILL');
  }

  private enqueue(job: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
    const run = this.queue.then(job).catch(() => undefined);
    this.queue = run;
    return run;
  }

  private async make(
    name: string,
    durationS: number,
    frames: readonly [Frame, Frame] | undefined,
  ): Promise<Buffer | undefined> {
    const cached =
      this.cacheDir === null ? undefined : await readFile(join(this.cacheDir, name)).catch(() => undefined);
    if (cached !== undefined || frames === undefined || this.closed || !(await this.isAvailable()))
      return cached;
    const dir = await mkdtemp(join(tmpdir(), 'flf2v-sim-render-'));
    try {
      const out = join(dir, 'out.mp4');
      await this.render(dir, frames, durationS, out);
      const bytes = await readFile(out);
      if (this.cacheDir !== null) await this.store(name, out);
      return bytes;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Into the cache by rename, so that another process reading the same name sees all of it or nothing. */
  private async store(name: string, file: string): Promise<void> {
    const dir = this.cacheDir!;
    try {
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      await writeFile(tmp, await readFile(file));
      await rename(tmp, join(dir, name)).catch(async (error) => {
        await rm(tmp, { force: true });
        throw error;
      });
    } catch {
      // An unwritable cache costs a render next time, nothing more.
    }
  }

  private isAvailable(): Promise<boolean> {
    this.available ??= this.exec(['-hide_banner', '-version']).then(
      () => true,
      () => false,
    );
    return this.available;
  }

  private async render(dir: string, [first, last]: readonly [Frame, Frame], durationS: number, out: string) {
    const a = join(dir, `first.${first.type}`);
    const b = join(dir, `last.${last.type}`);
    await Promise.all([writeFile(a, first.bytes), writeFile(b, last.bytes)]);
    const [w, h] = clipSize(first.width, first.height);
    // Both frames fill a canvas 10% larger than the clip; the crossfade runs between half-second holds while
    // the window pans across the canvas once.
    const cw = even(w * 1.1);
    const ch = even(h * 1.1);
    const prep = `scale=${cw}:${ch}:force_original_aspect_ratio=increase:out_range=tv:out_color_matrix=bt709,crop=${cw}:${ch},setsar=1,fps=${FPS},format=yuv420p`;
    const fade = Math.max(0.5, durationS - 1);
    await this.exec([
      '-hide_banner',
      '-loglevel',
      'error',
      ...['-loop', '1', '-framerate', String(FPS), '-t', String(durationS), '-i', a],
      ...['-loop', '1', '-framerate', String(FPS), '-t', String(durationS), '-i', b],
      '-filter_complex',
      `[0:v]${prep}[a];[1:v]${prep}[b];[a][b]xfade=transition=fade:duration=${fade}:offset=0.5,` +
        `crop=${w}:${h}:x='(in_w-out_w)*t/${durationS}':y='(in_h-out_h)/2',format=yuv420p,${COLOR}`,
      ...['-t', String(durationS), '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26'],
      ...['-chroma_sample_location', 'left'],
      ...['-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', '-y', out],
    ]);
  }

  private exec(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('ffmpeg', args, { stdio: 'ignore' });
      this.children.add(child);
      const timer = setTimeout(() => child.kill('SIGKILL'), RENDER_TIMEOUT_MS);
      child.on('error', (error) => {
        clearTimeout(timer);
        this.children.delete(child);
        reject(error);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        if (code === 0) resolve();
        else reject(new Error(`ffmpeg exited with ${code}`));
      });
    });
  }
}

/** The clip's size: the first frame's aspect ratio, longer side `LONG_SIDE`, both even (yuv420p needs it). */
function clipSize(width: number, height: number): [number, number] {
  return width >= height
    ? [LONG_SIDE, Math.max(2, even((LONG_SIDE * height) / width))]
    : [Math.max(2, even((LONG_SIDE * width) / height)), LONG_SIDE];
}

function even(n: number): number {
  return Math.round(n / 2) * 2;
}
