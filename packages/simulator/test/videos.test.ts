import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fakeClock,
  png,
  result,
  start,
  submit,
  submitTask,
  tempDir,
  upload,
  body as validBody,
} from './_helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
};
const urlsOf = async (sim: Parameters<typeof result>[0], id: string): Promise<string[]> =>
  (await result(sim, id)).body.data.urls;

function hasFfprobe(): boolean {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('result videos', () => {
  it('are MP4s, unique per task and index, matching the ledger', async () => {
    const sim = await start();
    const a = await urlsOf(sim, await submitTask(sim, { number_of_videos: 2 }));
    const b = await urlsOf(sim, await submitTask(sim));
    const files = await Promise.all([...a, ...b].map(async (u) => (await bytesOf(u)).bytes));
    for (const f of files) {
      expect(f.subarray(4, 8).toString('latin1')).toBe('ftyp');
    }
    expect(new Set(files.map(sha)).size).toBe(3);
    const videos = sim.ledger().videos;
    expect(videos).toHaveLength(3);
    for (const [i, f] of files.entries()) {
      const v = videos[i]!;
      expect(v.sha256).toBe(sha(f));
      expect(v.bytes).toBe(f.length);
      expect(v.downloads).toBe(1);
    }
  });

  it.runIf(hasFfprobe())('stay playable (ffprobe reads a 1 s h264 stream)', async () => {
    const sim = await start();
    const [url] = await urlsOf(sim, await submitTask(sim));
    const { bytes } = await bytesOf(url!);
    const dir = mkdtempSync(join(tmpdir(), 'flf2v-sim-video-'));
    try {
      const file = join(dir, 'v.mp4');
      writeFileSync(file, bytes);
      const out = execFileSync('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_name:format=duration',
        '-of',
        'json',
        file,
      ]);
      const info = JSON.parse(out.toString());
      expect(info.streams[0].codec_name).toBe('h264');
      expect(Number(info.format.duration)).toBeGreaterThan(0.5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honour Range: a-b, a-, -n, and 416 past the end', async () => {
    const sim = await start();
    const [url] = await urlsOf(sim, await submitTask(sim));
    const { bytes: whole, res: full } = await bytesOf(url!);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const size = whole.length;

    const mid = await bytesOf(url!, { headers: { range: 'bytes=10-19' } });
    expect(mid.res.status).toBe(206);
    expect(mid.res.headers.get('content-range')).toBe(`bytes 10-19/${size}`);
    expect(mid.bytes.equals(whole.subarray(10, 20))).toBe(true);

    const tail = await bytesOf(url!, { headers: { range: 'bytes=100-' } });
    expect(tail.bytes.equals(whole.subarray(100))).toBe(true);

    const suffix = await bytesOf(url!, { headers: { range: 'bytes=-16' } });
    expect(suffix.res.headers.get('content-range')).toBe(`bytes ${size - 16}-${size - 1}/${size}`);
    expect(suffix.bytes.equals(whole.subarray(size - 16))).toBe(true);

    const past = await fetch(url!, { headers: { range: `bytes=${size}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    await past.body?.cancel();

    // Resuming from a partial file gives the same bytes.
    const rest = await bytesOf(url!, { headers: { range: `bytes=${size - 100}-` } });
    expect(Buffer.concat([whole.subarray(0, size - 100), rest.bytes]).equals(whole)).toBe(true);
    expect(sim.ledger().videos[0]).toMatchObject({ downloads: 1, rangeRequests: 4 });
  });

  it('answer HEAD with the length and no body', async () => {
    const sim = await start();
    const [url] = await urlsOf(sim, await submitTask(sim));
    const head = await fetch(url!, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1000);
    expect(head.headers.get('content-type')).toBe('video/mp4');
  });

  it('expire after urlTtlMs (403), and a new result query signs fresh URLs', async () => {
    const t = fakeClock();
    const sim = await start({ clock: t.clock, timings: { urlTtlMs: 60_000 } });
    const id = await submitTask(sim);
    const [old] = await urlsOf(sim, id);
    t.advance(60_000);
    expect((await fetch(old!)).status).toBe(200);
    t.advance(1);
    const expired = await fetch(old!);
    expect(expired.status).toBe(403);
    expect(await expired.json()).toMatchObject({ message: expect.stringMatching(/expired/) });
    const [fresh] = await urlsOf(sim, id);
    expect(fresh).not.toBe(old);
    const { res, bytes } = await bytesOf(fresh!);
    expect(res.status).toBe(200);
    expect(sha(bytes)).toBe(sim.ledger().videos[0]!.sha256);
  });

  it('refuse tampered signatures and unknown videos', async () => {
    const sim = await start();
    const id = await submitTask(sim);
    const [url] = await urlsOf(sim, id);
    expect((await fetch(url!.replace(/sig=[0-9a-f]/, 'sig=x'))).status).toBe(403);
    expect((await fetch(url!.replace(/expires=\d+/, 'expires=99999999999999'))).status).toBe(403);
    expect((await fetch(url!.replace('/0.mp4', '/1.mp4'))).status).toBe(403);
    expect((await fetch(`${sim.url}/videos/${id}/0.mp4`)).status).toBe(403);
  });
});

describe('render: ffmpeg', () => {
  /** Codec, size, pixel format, frame rate and duration of a video, by ffprobe. */
  function probe(bytes: Buffer) {
    const dir = mkdtempSync(join(tmpdir(), 'flf2v-sim-video-'));
    try {
      const file = join(dir, 'v.mp4');
      writeFileSync(file, bytes);
      const out = execFileSync('ffprobe', [
        ...['-v', 'error', '-select_streams', 'v:0', '-of', 'json'],
        ...['-show_entries', 'stream=codec_name,width,height,pix_fmt,r_frame_rate:format=duration', file],
      ]);
      const info = JSON.parse(out.toString());
      return { ...info.streams[0], duration: Number(info.format.duration) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async function renderTask(sim: Parameters<typeof result>[0], first: Buffer, last: Buffer, input = {}) {
    const a = (await upload(sim, first)).body.data.fullPath;
    const b = (await upload(sim, last)).body.data.fullPath;
    const r = await submit(sim, validBody({ image: a, last_image: b, ...input }));
    return r.body.data.taskId as string;
  }

  it.runIf(hasFfprobe())(
    'serves an H.264 clip of the task duration at the first frame aspect ratio, unique per video',
    async () => {
      const sim = await start({ render: 'ffmpeg', renderCacheDir: await tempDir() });
      const id = await renderTask(sim, png(64, 36, 1), png(64, 36, 7), { number_of_videos: 2, duration: 6 });
      const [v0, v1] = await Promise.all((await urlsOf(sim, id)).map(async (u) => (await bytesOf(u)).bytes));
      expect(sha(v0!)).not.toBe(sha(v1!));
      expect(probe(v0!)).toMatchObject({
        codec_name: 'h264',
        pix_fmt: 'yuv420p',
        width: 320,
        height: 180,
        r_frame_rate: '24/1',
        duration: expect.closeTo(6, 1),
      });
      // faststart: the index comes before the media, so a browser plays it while it loads.
      expect(v0!.indexOf('moov', 0, 'latin1')).toBeLessThan(v0!.indexOf('mdat', 0, 'latin1'));

      const portrait = await renderTask(sim, png(36, 64, 2), png(36, 64, 3));
      const [p] = await urlsOf(sim, portrait);
      expect(probe((await bytesOf(p!)).bytes)).toMatchObject({
        width: 180,
        height: 320,
        duration: expect.closeTo(5, 1),
      });
    },
  );

  it.runIf(hasFfprobe())(
    'renders a frame pair once: later tasks and simulators take it from the cache',
    async () => {
      const renderCacheDir = await tempDir();
      const first = png(64, 36, 11);
      const last = png(64, 36, 12);
      const sim = await start({ render: 'ffmpeg', renderCacheDir });
      const [u] = await urlsOf(sim, await renderTask(sim, first, last));
      const rendered = (await bytesOf(u!)).bytes;
      const cached = readdirSync(renderCacheDir);
      expect(cached).toHaveLength(1);
      expect(
        rendered
          .subarray(0, statSync(join(renderCacheDir, cached[0]!)).size)
          .equals(readFileSync(join(renderCacheDir, cached[0]!))),
      ).toBe(true);

      // Replace the cached clip with a marker clip: a simulator that serves the marker read the cache.
      const marker = readFileSync(new URL('../assets/clip.mp4', import.meta.url));
      writeFileSync(join(renderCacheDir, cached[0]!), marker);
      const again = await start({ render: 'ffmpeg', renderCacheDir });
      const [w] = await urlsOf(again, await renderTask(again, first, last));
      expect((await bytesOf(w!)).bytes.subarray(0, marker.length).equals(marker)).toBe(true);
      // The same pair for longer is another clip.
      const [x] = await urlsOf(again, await renderTask(again, first, last, { duration: 8 }));
      expect(probe((await bytesOf(x!)).bytes).duration).toBeCloseTo(8, 1);
      expect(readdirSync(renderCacheDir)).toHaveLength(2);
    },
  );

  it.runIf(hasFfprobe())('a restored task serves its rendered video', async () => {
    const dir = await tempDir();
    const options = {
      render: 'ffmpeg' as const,
      renderCacheDir: join(dir, 'renders'),
      taskFile: join(dir, 'tasks.jsonl'),
    };
    const sim = await start(options);
    const id = await renderTask(sim, png(64, 36, 21), png(64, 36, 22));
    const [u] = await urlsOf(sim, id);
    const before = (await bytesOf(u!)).bytes;
    await sim.close();

    const restarted = await start(options);
    expect(restarted.ledger().tasks.restored).toBe(1);
    const [v] = await urlsOf(restarted, id);
    const after = (await bytesOf(v!)).bytes;
    expect(sha(after)).toBe(sha(before));
    expect(probe(after).width).toBe(320);
    await restarted.close();

    // Without the cached clip, the frames kept in uploadDir render it again.
    const uploadDir = join(dir, 'uploads');
    const kept = await start({ ...options, uploadDir, renderCacheDir: join(dir, 'renders-2') });
    const keptId = await renderTask(kept, png(64, 36, 23), png(64, 36, 24));
    await kept.close();
    const again = await start({ ...options, uploadDir, renderCacheDir: join(dir, 'renders-3') });
    const [k] = await urlsOf(again, keptId);
    expect(probe((await bytesOf(k!)).bytes)).toMatchObject({ width: 320, duration: expect.closeTo(5, 1) });
  });
});
