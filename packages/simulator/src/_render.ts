import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Frame {
  bytes: Buffer;
  type: 'png' | 'jpg';
  width: number;
  height: number;
}

const RENDER_TIMEOUT_MS = 30_000;
const WIDTH = 320;

/**
 * The optional `render: 'ffmpeg'`: a two-second crossfade from the first frame to the last, at the first frame's
 * aspect ratio. Renders run one at a time; any failure (no ffmpeg, odd input) yields undefined and the caller
 * falls back to the shipped clip, so ffmpeg is never required.
 */
export class CrossfadeRenderer {
  private available: Promise<boolean> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly children = new Set<ChildProcess>();
  private closed = false;

  render(first: Frame, last: Frame): Promise<Buffer | undefined> {
    const job = this.queue.then(async () => ((await this.isAvailable()) ? this.run(first, last) : undefined));
    this.queue = job.catch(() => undefined);
    return job.catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    for (const child of this.children) child.kill('SIGKILL');
  }

  private isAvailable(): Promise<boolean> {
    this.available ??= this.exec(['-hide_banner', '-version']).then(
      () => true,
      () => false,
    );
    return this.available;
  }

  private async run(first: Frame, last: Frame): Promise<Buffer | undefined> {
    if (this.closed) return undefined;
    const dir = await mkdtemp(join(tmpdir(), 'flf2v-sim-render-'));
    try {
      const a = join(dir, `first.${first.type}`);
      const b = join(dir, `last.${last.type}`);
      const out = join(dir, 'out.mp4');
      await Promise.all([writeFile(a, first.bytes), writeFile(b, last.bytes)]);
      const height = Math.max(2, Math.round((WIDTH * first.height) / first.width / 2) * 2);
      const prep = `scale=${WIDTH}:${height},setsar=1,fps=10,format=yuv420p`;
      await this.exec([
        '-hide_banner',
        '-loglevel',
        'error',
        '-loop',
        '1',
        '-t',
        '2',
        '-i',
        a,
        '-loop',
        '1',
        '-t',
        '2',
        '-i',
        b,
        '-filter_complex',
        `[0:v]${prep}[a];[1:v]${prep}[b];[a][b]xfade=transition=fade:duration=1:offset=0.5,format=yuv420p`,
        '-t',
        '2',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-movflags',
        '+faststart',
        '-y',
        out,
      ]);
      return await readFile(out);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
