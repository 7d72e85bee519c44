// Frame preparation benchmark (issue 17). Runs the built CLI as users do and reports wall time and peak RSS of
// that process (GNU time). After `pnpm build`:
//   node bench/prepare.mjs [--frames 1000] [--keep DIR]
//     1,000 distinct frames that all need preparing (a quarter each: WebP 1920×1080 from an image generator,
//     12-megapixel phone JPEGs stored on their side, 16-bit PNG 1920×1080, LZW TIFF 1920×1080), paired into
//     500 tasks: `flf2v validate` with an empty cache (everything prepared), then again (all from the cache).
//   node bench/prepare.mjs --nothing --cli A --cli B [--runs 3]
//     nothing to prepare: 1,000 distinct 320×180 PNG/JPEG frames in 500 tasks, `validate` by each CLI build
//     given (e.g. one built from main in a `git worktree`, and this one), alternating, `--runs` times each.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'packages/batch/bin/flf2v.js');
const sharp = createRequire(join(ROOT, 'packages/batch/package.json'))('sharp');
const { values: flags } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000' },
    keep: { type: 'string' },
    nothing: { type: 'boolean', default: false },
    cli: { type: 'string', multiple: true },
    runs: { type: 'string', default: '3' },
  },
});
const FRAMES = Number(flags.frames);

/** A distinct picture: a gradient whose colours depend on `seed`, with some texture. */
function raw(seed, width, height) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width + seed;
      data[i + 1] = (y * 255) / height + seed * 7;
      data[i + 2] = ((x ^ y) + seed * 13) & 0xff;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

const KINDS = [
  ['webp', (s) => raw(s, 1920, 1080).webp({ quality: 85 })],
  ['jpg', (s) => raw(s, 3024, 4032).rotate(270).jpeg({ quality: 88 }).withMetadata({ orientation: 6 })],
  ['png', (s) => raw(s, 1920, 1080).toColourspace('rgb16').png()],
  ['tiff', (s) => raw(s, 1920, 1080).tiff({ compression: 'lzw' })],
];

async function generate(dir, nothing) {
  await mkdir(dir, { recursive: true });
  const names = [];
  for (let i = 0; i < FRAMES; i++) {
    const [ext, make] = nothing
      ? i % 2
        ? ['png', (s) => raw(s, 320, 180).png()]
        : ['jpg', (s) => raw(s, 320, 180).jpeg()]
      : KINDS[i % KINDS.length];
    const name = `f${i}.${ext}`;
    await writeFile(join(dir, name), await make(i).toBuffer());
    names.push(name);
  }
  const lines = ['id,image,last_image,prompt'];
  for (let i = 0; i + 1 < names.length; i += 2) lines.push(`s${i},${names[i]},${names[i + 1]},shot ${i}`);
  await writeFile(join(dir, 'shots.csv'), `${lines.join('\n')}\n`);
}

/** Wall time, exit code, peak RSS (KiB) and the plan summary of one `validate`. */
function validate(cli, dir, cacheDir) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'MAXRSS_KB=%M', process.execPath, cli, 'validate', 'shots.csv', '--json'],
      {
        cwd: dir,
        env: { ...process.env, FLF2V_CACHE_DIR: cacheDir },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rssMB = Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1]) / 1024;
      let summary;
      try {
        summary = JSON.parse(stdout).summary;
      } catch {
        return reject(new Error(`validate failed (exit ${code}): ${stderr.slice(0, 2000)}`));
      }
      resolve({ code, seconds: +seconds.toFixed(2), rssMB: +rssMB.toFixed(1), summary });
    });
  });
}

const dir = flags.keep ?? (await mkdtemp(join(tmpdir(), 'flf2v-bench-prepare-')));
try {
  process.stderr.write(`generating ${FRAMES} frames in ${dir}…\n`);
  const t0 = Date.now();
  // A kept directory is generated once and reused.
  if (!flags.keep || !(await import('node:fs')).existsSync(join(dir, 'shots.csv')))
    await generate(dir, flags.nothing);
  process.stderr.write(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  if (!flags.nothing) {
    const cache = join(dir, 'cache');
    await rm(cache, { recursive: true, force: true });
    const cold = await validate(CLI, dir, cache);
    const warm = await validate(CLI, dir, cache);
    const report = {
      bench: 'prepare',
      frames: FRAMES,
      prepared: cold.summary.framesPrepared,
      cold: {
        seconds: cold.seconds,
        peakRssMB: cold.rssMB,
        msPerFrame: +((cold.seconds * 1000) / FRAMES).toFixed(1),
      },
      warm: { seconds: warm.seconds, peakRssMB: warm.rssMB },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const clis = flags.cli?.length ? flags.cli : [CLI];
    const results = clis.map(() => []);
    for (let run = 0; run < Number(flags.runs); run++) {
      for (let c = 0; c < clis.length; c++)
        results[c].push(await validate(clis[c], dir, join(dir, `cache-${c}`)));
    }
    const report = clis.map((cli, c) => ({
      cli,
      tasks: results[c][0].summary.tasks,
      prepared: results[c][0].summary.framesPrepared ?? 0,
      seconds: results[c].map((r) => r.seconds),
      peakRssMB: results[c].map((r) => r.rssMB),
    }));
    process.stdout.write(
      `${JSON.stringify({ bench: 'prepare-nothing', frames: FRAMES, report }, null, 2)}\n`,
    );
  }
} finally {
  if (!flags.keep) await rm(dir, { recursive: true, force: true });
}
