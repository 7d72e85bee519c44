// Scale benchmark for `flf2v validate`: a 100,000-row CSV using a few hundred distinct frames must validate
// in about 5 s within ~150 MB of memory (issue 5). Runs the built CLI as users do and reports wall time and
// peak RSS of that process. After `pnpm build`:
//   node bench/validate-scale.mjs [--rows 100000] [--frames 300] [--keep DIR]
// --keep DIR generates the files there and leaves them (to profile validate on them).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deflateSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'packages/batch/bin/flf2v.js');
const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    frames: { type: 'string', default: '300' },
    keep: { type: 'string' },
  },
});
const ROWS = Number(flags.rows);
const FRAMES = Number(flags.frames);

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, tail]);
}
/** A 320×180 RGB PNG whose pixels depend on `seed`, so every frame hashes differently. */
function png(seed) {
  const width = 320;
  const height = 180;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++)
      row.set([(x + seed) & 0xff, (y * 3 + (seed >> 8)) & 0xff, seed & 0xff], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function csvCell(text) {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function generate(dir) {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < FRAMES; i++) await writeFile(join(dir, `f${i}.png`), png(i));
  const prompts = [
    'The camera drifts forward as morning mist lifts off the river, revealing the old stone bridge.',
    '暮色渐深，天空由红转紫，第一颗星出现在山脊上方，镜头缓慢拉远。',
    'A "golden hour" glow settles on every window, shadows lengthen across the square.',
    'Two lines:\nclouds race across the sky,\nthe city lights come on one by one.',
  ];
  const lines = ['id,image,last_image,prompt,duration,resolution,number_of_videos'];
  for (let r = 0; r < ROWS; r++) {
    const a = r % FRAMES;
    const b = (r * 7 + 1) % FRAMES;
    const prompt = `${prompts[r % prompts.length]} (shot ${r})`;
    lines.push(
      `s${r},f${a}.png,f${b}.png,${csvCell(prompt)},${[5, 6, 8][r % 3]},${r % 5 ? '720p' : '1080p'},${1 + (r % 2)}`,
    );
  }
  const csv = join(dir, 'bulk.csv');
  await writeFile(csv, `${lines.join('\r\n')}\r\n`);
  return csv;
}

/** Wall time, exit code and peak RSS (KiB) of the CLI, via GNU time when present, else a preload hook. */
function measure(csv, cwd) {
  const args = [CLI, 'validate', csv, '--json'];
  const gnuTime = '/usr/bin/time';
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let child;
    let stderr = '';
    let stdout = '';
    const useTime = process.platform === 'linux';
    if (useTime) child = spawn(gnuTime, ['-f', 'MAXRSS_KB=%M', process.execPath, ...args], { cwd });
    else {
      const hook =
        "process.on('exit',()=>process.stderr.write('MAXRSS_KB='+process.resourceUsage().maxRSS+'\\n'))";
      child = spawn(
        process.execPath,
        ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, ...args],
        { cwd },
      );
    }
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rss = Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? Number.NaN);
      resolve({ code, seconds, rssKiB: rss, stdout, stderr });
    });
  });
}

const keep = flags.keep;
const dir = keep ?? (await mkdtemp(join(tmpdir(), 'flf2v-bench-validate-')));
try {
  process.stderr.write(`generating ${ROWS.toLocaleString('en-US')} rows over ${FRAMES} frames in ${dir}…\n`);
  const csv = await generate(dir);
  const result = await measure(csv, dir);
  let summary;
  try {
    summary = JSON.parse(result.stdout).summary;
  } catch {
    process.stderr.write(result.stdout.slice(0, 2000) + result.stderr.slice(0, 2000));
    throw new Error(`validate did not print JSON (exit ${result.code})`);
  }
  const report = {
    bench: 'validate-scale',
    rows: ROWS,
    frames: FRAMES,
    exitCode: result.code,
    seconds: Number(result.seconds.toFixed(2)),
    peakRssMB: Number((result.rssKiB / 1024).toFixed(1)),
    tasks: summary.tasks,
    framesToUpload: summary.framesToUpload,
    errors: summary.errors,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.stderr.write(
    `validate: ${ROWS.toLocaleString('en-US')} rows in ${report.seconds} s, peak RSS ${report.peakRssMB} MB (target ≈ 5 s, ≈ 150 MB)\n`,
  );
  if (result.code !== 0 || summary.tasks !== ROWS) process.exitCode = 1;
} finally {
  if (!keep) await rm(dir, { recursive: true, force: true });
}
