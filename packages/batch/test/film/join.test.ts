import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinClips } from '../../src/film/join.js';
import { findFfmpeg } from '../../src/film/tools.js';
import { tempDir } from '../_temp.js';

// Real clips made by ffmpeg here, joined by the real ffmpeg. CI installs it (.ci/run).

let dir: string;
const clip = (name: string) => join(dir, name);

/** A test-pattern clip: `seconds` long, `size` WxH, 24 fps, H.264 yuv420p; `tone` adds a sine track. */
function makeClip(name: string, seconds: number, size = '320x180', tone = false) {
  execFileSync('ffmpeg', [
    ...[
      '-hide_banner',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=${size}:rate=24:duration=${seconds}`,
    ],
    ...(tone ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`] : []),
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ...(tone ? ['-c:a', 'aac', '-shortest'] : []),
    ...['-movflags', '+faststart', '-y', clip(name)],
  ]);
}

function ffprobe(file: string, ...args: string[]): string {
  return execFileSync('ffprobe', ['-v', 'error', ...args, file]).toString();
}

const durationOf = (file: string) =>
  Number(ffprobe(file, '-show_entries', 'format=duration', '-of', 'csv=p=0'));
const videoOf = (file: string) =>
  JSON.parse(
    ffprobe(
      file,
      ...['-select_streams', 'v:0', '-show_data_hash', 'sha256', '-of', 'json'],
      ...['-show_entries', 'stream=codec_name,profile,width,height,pix_fmt,r_frame_rate,extradata_hash'],
    ),
  ).streams[0];
/** The sha256 of every video packet. */
const packetHashes = (file: string) =>
  ffprobe(
    file,
    '-select_streams',
    'v:0',
    '-show_data_hash',
    'sha256',
    '-show_entries',
    'packet=data_hash',
    '-of',
    'csv=p=0',
  )
    .trim()
    .split('\n');
/** The md5 of every decoded picture. */
const frameHashes = (file: string) =>
  execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v', '-f', 'framemd5', '-'])
    .toString()
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
/**
 * Packets copied, not encoded again: every packet equal, except that the concat demuxer puts each clip's
 * parameter sets (SPS/PPS) in front of its first picture.
 */
function expectCopied(film: string, clips: string[]) {
  const firsts = new Set<number>();
  const expected: string[] = [];
  for (const c of clips) {
    firsts.add(expected.length);
    expected.push(...packetHashes(c));
  }
  const got = packetHashes(film);
  expect(got).toHaveLength(expected.length);
  expect(got.filter((_, i) => !firsts.has(i))).toEqual(expected.filter((_, i) => !firsts.has(i)));
  expect(frameHashes(film)).toEqual(clips.flatMap(frameHashes));
}
/** `ffmpeg -i film -f null -`: decodes every frame; anything it says at level error is a fault. */
function decodeErrors(file: string): string {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flf2v-film-clips-'));
  makeClip('a.mp4', 1);
  makeClip('b.mp4', 2);
  makeClip('small.mp4', 1, '160x120');
  makeClip('sound.mp4', 1, '320x180', true);
  const whole = await readFile(clip('a.mp4'));
  await writeFile(clip('cut.mp4'), whole.subarray(0, Math.floor(whole.length * 0.6)));
  await writeFile(clip('text.mp4'), 'not a video\n');
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('joinClips', () => {
  it('joins clips of one format without re-encoding: the same packets, the sum of the durations', async () => {
    const tools = await findFfmpeg();
    const out = join(await tempDir(), 'film.mp4');
    const film = await joinClips([clip('a.mp4'), clip('b.mp4'), clip('a.mp4')], out, { tools });
    expect(film.method).toBe('copy');
    expectCopied(out, [clip('a.mp4'), clip('b.mp4'), clip('a.mp4')]);
    expect(videoOf(out)).toEqual(videoOf(clip('a.mp4')));
    expect(film.duration).toBeCloseTo(4, 1);
    expect(durationOf(out)).toBeCloseTo(4, 1);
    expect(decodeErrors(out)).toBe('');
    expect(film).toMatchObject({ path: out, bytes: (await readFile(out)).length });
    expect(film.clips.map((c) => c.duration)).toEqual([1, 2, 1].map((d) => expect.closeTo(d, 1)));
  });

  it('re-encodes clips of different sizes to the first clip format', async () => {
    const tools = await findFfmpeg();
    const out = join(await tempDir(), 'film.mp4');
    const film = await joinClips([clip('a.mp4'), clip('small.mp4')], out, { tools });
    expect(film.method).toBe('reencode');
    expect(frameHashes(out).slice(0, 24)).not.toEqual(frameHashes(clip('a.mp4')));
    expect(videoOf(out)).toMatchObject({
      codec_name: 'h264',
      width: 320,
      height: 180,
      pix_fmt: 'yuv420p',
      r_frame_rate: '24/1',
    });
    expect(durationOf(out)).toBeCloseTo(2, 1);
    expect(decodeErrors(out)).toBe('');
  });

  it('keeps sound in step: a clip without audio gets silence', async () => {
    const tools = await findFfmpeg();
    const out = join(await tempDir(), 'film.mp4');
    const film = await joinClips([clip('a.mp4'), clip('sound.mp4'), clip('b.mp4')], out, { tools });
    expect(film.method).toBe('reencode');
    const streams = ffprobe(out, '-show_entries', 'stream=codec_type,duration', '-of', 'csv=p=0')
      .trim()
      .split('\n');
    expect(streams.map((s) => s.split(',')[0])).toEqual(['video', 'audio']);
    for (const s of streams) expect(Number(s.split(',')[1])).toBeCloseTo(4, 1);
    expect(decodeErrors(out)).toBe('');
  });

  it('refuses a clip cut short or not a video, naming it, and leaves no film behind', async () => {
    const tools = await findFfmpeg();
    const work = await tempDir();
    const out = join(work, 'film.mp4');
    await expect(joinClips([clip('a.mp4'), clip('cut.mp4')], out, { tools })).rejects.toMatchObject({
      code: 'E_CLIP_INVALID',
      retryable: false,
      message: expect.stringMatching(
        new RegExp(`^${clip('cut.mp4')} is not a usable video: it is cut short`),
      ),
    });
    await expect(joinClips([clip('text.mp4')], out, { tools })).rejects.toMatchObject({
      code: 'E_CLIP_INVALID',
      message: expect.stringContaining(`${clip('text.mp4')} is not a usable video: ffprobe cannot read it`),
    });
    await expect(joinClips([join(work, 'gone.mp4')], out, { tools })).rejects.toMatchObject({
      code: 'E_CLIP_INVALID',
      message: expect.stringContaining('gone.mp4'),
    });
    expect(execFileSync('ls', ['-A', work]).toString()).toBe('');
  });

  it('stops when asked to, leaving nothing behind', async () => {
    const tools = await findFfmpeg();
    const work = await tempDir();
    await expect(
      joinClips([clip('a.mp4')], join(work, 'film.mp4'), { tools, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
    expect(execFileSync('ls', ['-A', work]).toString()).toBe('');
  });

  it('replaces an existing film only once the new one is complete', async () => {
    const tools = await findFfmpeg();
    const out = join(await tempDir(), 'film.mp4');
    await copyFile(clip('b.mp4'), out);
    await expect(joinClips([clip('cut.mp4')], out, { tools })).rejects.toMatchObject({
      code: 'E_CLIP_INVALID',
    });
    expect(packetHashes(out)).toEqual(packetHashes(clip('b.mp4')));
    await joinClips([clip('a.mp4')], out, { tools });
    expectCopied(out, [clip('a.mp4')]);
  });
});

describe('findFfmpeg', () => {
  it('says how to install ffmpeg when PATH has none', async () => {
    const empty = await tempDir();
    await expect(findFfmpeg({ PATH: empty })).rejects.toMatchObject({
      code: 'E_FFMPEG_MISSING',
      retryable: false,
      message: expect.stringMatching(
        /ffmpeg was not found on PATH.*apt-get install ffmpeg.*brew install ffmpeg/,
      ),
    });
  });

  it('takes FFMPEG_PATH and FFPROBE_PATH, and refuses one that is not an executable', async () => {
    const bin = await tempDir();
    await mkdir(join(bin, 'sub'));
    const fake = join(bin, 'sub', 'ffmpeg');
    await writeFile(fake, '#!/bin/sh\n');
    await chmod(fake, 0o755);
    const real = await findFfmpeg();
    expect(await findFfmpeg({ PATH: '', FFMPEG_PATH: fake, FFPROBE_PATH: real.ffprobe })).toEqual({
      ffmpeg: fake,
      ffprobe: real.ffprobe,
    });
    await expect(
      findFfmpeg({ PATH: process.env.PATH, FFPROBE_PATH: join(bin, 'nope') }),
    ).rejects.toMatchObject({
      code: 'E_FFMPEG_MISSING',
      message: expect.stringContaining(`FFPROBE_PATH=${join(bin, 'nope')} is not an executable file`),
    });
  });
});
