import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isFlf2vError } from '@flf2v/core/rules';
import { BatchError } from '../errors.js';
import { fsyncDir } from '../util/fs-atomic.js';
import { localIoFailure } from '../util/local-io.js';
import { type ClipInfo, probeClip } from './probe.js';
import { type FfmpegTools, runTool, tail } from './tools.js';

/** How the clips became one film. */
export type JoinMethod = 'copy' | 'reencode';

/** The film written by `joinClips`. */
export interface FilmFile {
  /** Absolute path. */
  path: string;
  /** Seconds, as ffprobe reads the written film. */
  duration: number;
  bytes: number;
  sha256: string;
  /** `copy`: the clips' streams joined as they are; `reencode`: decoded and encoded again. */
  method: JoinMethod;
  /** Each clip as probed, in film order. */
  clips: ClipInfo[];
}

export interface JoinOptions {
  tools: FfmpegTools;
  /** Stops ffmpeg; the partial film is removed and `E_INTERRUPTED` thrown. */
  signal?: AbortSignal;
}

/** The re-encode's quality: visually lossless for H.264, at a speed that suits a film of many short clips. */
const X264 = ['-c:v', 'libx264', '-preset', 'fast', '-crf', '18', '-pix_fmt', 'yuv420p'];

/**
 * Join `clips` (paths, in order) into one MP4 at `out`. Clips that agree on every stream parameter (codec,
 * profile, size, pixel format, frame rate, time base, audio layout, codec setup) are joined without
 * re-encoding (ffmpeg's concat demuxer, `-c copy`); otherwise every clip is re-encoded to the first one's
 * format: its size (others scaled to fit and padded), its frame rate, H.264 yuv420p, AAC audio when any clip
 * has sound (silence for those without). The film is written beside `out` under a temporary name and renamed
 * into place, so `out` is never a half-written file.
 *
 * Throws `E_CLIP_INVALID` (a clip that cannot be used, named), `E_FFMPEG_FAILED`, `E_LOCAL_IO`,
 * `E_INTERRUPTED` (aborted), `E_USAGE` (no clips).
 */
export async function joinClips(
  clips: readonly string[],
  out: string,
  options: JoinOptions,
): Promise<FilmFile> {
  const { tools, signal } = options;
  if (clips.length === 0) throw new BatchError('E_USAGE', 'no clips to join');
  const target = resolve(out);
  const probed: ClipInfo[] = [];
  for (const clip of clips) probed.push(await probeClip(tools.ffprobe, resolve(clip), signal));
  const method: JoinMethod = probed.every((c) => c.signature === probed[0]!.signature) ? 'copy' : 'reencode';

  const partial = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let work: string | undefined;
  try {
    work = await mkdtemp(join(tmpdir(), 'flf2v-film-'));
    const args = method === 'copy' ? await copyArgs(probed, join(work, 'clips.txt')) : reencodeArgs(probed);
    const run = await runTool(
      tools.ffmpeg,
      [
        '-hide_banner',
        '-v',
        'error',
        '-nostdin',
        ...args,
        '-movflags',
        '+faststart',
        '-f',
        'mp4',
        '-y',
        partial,
      ],
      signal,
    );
    if (run.code !== 0) {
      throw new BatchError(
        'E_FFMPEG_FAILED',
        `ffmpeg could not ${method === 'copy' ? 'join' : 're-encode'} the clips (exit ${run.code}): ${tail(run.stderr) || 'no message'}`,
      );
    }
    const film = await probeClip(tools.ffprobe, partial, signal).catch((error) => {
      throw isFlf2vError(error, 'E_CLIP_INVALID')
        ? new BatchError('E_FFMPEG_FAILED', `ffmpeg wrote a film that does not read back: ${error.message}`)
        : error;
    });
    const { bytes, sha256 } = await fileFacts(partial);
    await rename(partial, target);
    await fsyncDir(dirname(target));
    return { path: target, duration: film.duration, bytes, sha256, method, clips: probed };
  } catch (error) {
    await rm(partial, { force: true });
    throw localIoFailure(`cannot write ${target}`, error) ?? error;
  } finally {
    if (work) await rm(work, { recursive: true, force: true });
  }
}

/** The concat demuxer's list: one `file '…'` line per clip, quotes escaped as its syntax wants. */
async function copyArgs(clips: ClipInfo[], list: string): Promise<string[]> {
  const lines = clips.map((c) => `file '${c.path.replaceAll("'", "'\\''")}'\n`);
  await writeFile(list, lines.join(''));
  return ['-f', 'concat', '-safe', '0', '-i', list, '-map', '0', '-c', 'copy'];
}

function reencodeArgs(clips: ClipInfo[]): string[] {
  const first = clips[0]!;
  const w = even(first.video.width);
  const h = even(first.video.height);
  const fps = frameRate(first.video.frameRate);
  const sound = clips.find((c) => c.audio)?.audio;
  const inputs: string[] = [];
  const filters: string[] = [];
  const segments: string[] = [];
  for (const clip of clips) inputs.push('-i', clip.path);
  let next = clips.length;
  clips.forEach((clip, i) => {
    filters.push(
      `[${i}:v:0]scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${fps},format=yuv420p[v${i}]`,
    );
    segments.push(`[v${i}]`);
    if (!sound) return;
    let source = `${i}:a:0`;
    if (!clip.audio) {
      // Silence as long as the clip, so the sound of the clips after it stays in step with their pictures.
      inputs.push(
        '-f',
        'lavfi',
        '-t',
        String(clip.duration),
        '-i',
        `anullsrc=r=${sound.sampleRate}:cl=${sound.channelLayout}`,
      );
      source = `${next++}:a:0`;
    }
    filters.push(
      `[${source}]aresample=${sound.sampleRate},aformat=sample_fmts=fltp:channel_layouts=${sound.channelLayout}[a${i}]`,
    );
    segments.push(`[a${i}]`);
  });
  filters.push(
    `${segments.join('')}concat=n=${clips.length}:v=1:a=${sound ? 1 : 0}${sound ? '[v][a]' : '[v]'}`,
  );
  return [
    ...inputs,
    '-filter_complex',
    filters.join(';'),
    '-map',
    '[v]',
    ...(sound ? ['-map', '[a]', '-c:a', 'aac', '-b:a', '160k'] : []),
    ...X264,
  ];
}

/** ffprobe's `24/1` or `30000/1001` as ffmpeg's fps filter takes it; 25 when it is missing or zero (`0/0`). */
function frameRate(rate: string): string {
  const m = /^(\d+)(?:\/(\d+))?$/.exec(rate);
  return m && Number(m[1]) > 0 && Number(m[2] ?? 1) > 0 ? rate : '25';
}

function even(n: number): number {
  return Math.ceil(n / 2) * 2;
}

async function fileFacts(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { bytes: (await stat(path)).size, sha256: hash.digest('hex') };
}
