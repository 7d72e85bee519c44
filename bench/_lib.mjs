// Shared helpers of the benchmark harness: the machine, child processes measured by their own resource usage,
// the simulator in a child process, manifests, small statistics and the results files.
import { execFileSync, fork, spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BENCH = join(ROOT, 'bench');
export const CLI = join(ROOT, 'packages/batch/bin/flf2v.js');
export const RESULTS = join(BENCH, 'results');
const USAGE_HOOK = join(BENCH, '_usage-hook.mjs');
const SIM_CHILD = join(BENCH, '_sim-child.mjs');

/** A key the simulator accepts (any `sk-…`); not a secret. */
export const BENCH_KEY = 'sk-flf2v-bench';

export function machine() {
  const list = cpus();
  return {
    cores: list.length,
    cpu: list[0]?.model ?? 'unknown',
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The 1/5/15-minute load averages, as `uptime` prints them. */
export function load() {
  const [one, five, fifteen] = loadavg().map((n) => Number(n.toFixed(2)));
  return { one, five, fifteen };
}

export function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} (packages/ modified in the working tree)` : head;
  } catch {
    return 'unknown';
  }
}

export const log = (line) => process.stderr.write(`${line}\n`);

/**
 * Run a Node script in a child process and measure it: wall time, exit code, and its own resource usage (user
 * and system CPU, peak RSS) written by a preload hook when it exits, so the figures are the child's alone.
 */
export function runNode(args, options = {}) {
  return spawnNode(args, options).result;
}

/** `runNode`, with the child at hand (to signal it): `{ child, result }`. */
export function spawnNode(args, { cwd = ROOT, env = {}, nodeArgs = [], timeoutMs } = {}) {
  const usageFile = join(
    tmpdir(),
    `flf2v-bench-usage-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`,
  );
  const started = performance.now();
  const startedAtMs = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, '--import', USAGE_HOOK, ...args], {
    cwd,
    env: { ...process.env, ...env, BENCH_USAGE_FILE: usageFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', async (code, signal) => {
      if (timer) clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      let usage;
      try {
        usage = JSON.parse(await readFile(usageFile, 'utf8'));
      } catch {}
      await rm(usageFile, { force: true });
      resolve({
        code,
        signal,
        seconds,
        startedAtMs,
        endedAtMs: startedAtMs + seconds * 1000,
        cpuMs: usage ? (usage.userCPUTime + usage.systemCPUTime) / 1000 : Number.NaN,
        userMs: usage ? usage.userCPUTime / 1000 : Number.NaN,
        systemMs: usage ? usage.systemCPUTime / 1000 : Number.NaN,
        peakRssMB: usage ? usage.maxRSS / 1024 : Number.NaN,
        stdout,
        stderr,
      });
    });
  });
  return { child, result };
}

/**
 * The simulator in its own process (so the runner under test and the simulator each get a core). `spec` is
 * passed as JSON; `spec.durations` (`{ meanMs, jitter, seed }`) replaces `timings.runningMs` by a seeded
 * function whose draws are recorded, so each task's exact running time is known afterwards.
 */
export async function startSimChild(spec) {
  const child = fork(SIM_CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let seq = 0;
  child.on('message', (msg) => {
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(msg.error));
    else waiter.resolve(msg.value);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const call = (op, arg) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject });
      child.send({ id, op, arg });
    });
  const url = await call('start', spec);
  return {
    url,
    /** `{ ledger, durations, usage }`: the ledger, the recorded running times (by acceptance order), CPU. */
    report: () => call('report'),
    async close() {
      await call('close').catch(() => {});
      child.disconnect();
      await exited;
    },
  };
}

/** Landscape frames of the example jobs (every pair fits the simulator's aspect-ratio rules). */
export const FRAMES = ['dawn.png', 'dusk.jpg', 'night.png', 'noon.jpg'];
const PROMPTS = [
  'The camera drifts forward as morning mist lifts off the river revealing the old stone bridge',
  '暮色渐深 天空由红转紫 第一颗星出现在山脊上方 镜头缓慢拉远',
  'A golden hour glow settles on every window while shadows lengthen across the square',
  'Clouds race across the sky and the city lights come on one by one',
  'Waves roll onto the beach at dawn as gulls circle above the pier',
];

/**
 * A bare CSV of `tasks` rows over the example frames (copied next to it), every prompt distinct. No commas or
 * quotes in cells, so the naive baseline can read it with `split(',')` as its author would.
 */
export async function writeManifest(dir, tasks, { resolution = '720p', duration = 5 } = {}) {
  await mkdir(dir, { recursive: true });
  for (const f of FRAMES) await copyFile(join(ROOT, 'jobs/frames', f), join(dir, f));
  const lines = ['id,image,last_image,prompt,resolution,duration'];
  for (let i = 0; i < tasks; i++) {
    const a = i % FRAMES.length;
    const b = (a + 1 + (Math.floor(i / FRAMES.length) % (FRAMES.length - 1))) % FRAMES.length;
    lines.push(
      `t${i},${FRAMES[a]},${FRAMES[b]},${PROMPTS[i % PROMPTS.length]} (shot ${i}),${resolution},${duration}`,
    );
  }
  const file = join(dir, 'manifest.csv');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** Environment for a spawned `flf2v` talking to the simulator, with the upload cache kept in `dir`. */
export function cliEnv(baseUrl, dir) {
  return {
    BAICAI_BASE_URL: baseUrl,
    BAICAI_API_KEY: BENCH_KEY,
    FLF2V_CACHE_DIR: join(dir, 'upload-cache'),
    NO_COLOR: '1',
  };
}

// ---- statistics ---------------------------------------------------------------------------------------------

export const round = (n, digits = 2) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function describe(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    n: sorted.length,
    mean,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    max: sorted[sorted.length - 1],
    min: sorted[0],
  };
}

/**
 * Best and spread of one figure over repeated runs. `better`: 'higher' or 'lower'. Spread is (worst − best)
 * relative to the best.
 */
export function bestOf(values, better) {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0)
    return { best: Number.NaN, worst: Number.NaN, spreadPct: Number.NaN, runs: values };
  const best = better === 'higher' ? Math.max(...finite) : Math.min(...finite);
  const worst = better === 'higher' ? Math.min(...finite) : Math.max(...finite);
  return {
    best,
    worst,
    spreadPct: round((Math.abs(worst - best) / Math.abs(best || 1)) * 100, 1),
    runs: values,
  };
}

// ---- results ------------------------------------------------------------------------------------------------

/** `results/<name>.json` (the latest) and a dated copy in `results/history/`, to compare before and after. */
export async function writeResult(name, result) {
  const text = `${JSON.stringify(result, null, 2)}\n`;
  await mkdir(join(RESULTS, 'history'), { recursive: true });
  const stamp = (result.date ?? new Date().toISOString()).replace(/[:.]/g, '-');
  await writeFile(join(RESULTS, 'history', `${stamp}-${name}.json`), text);
  const file = join(RESULTS, `${name}.json`);
  await writeFile(file, text);
  return file;
}

/** `✓ name: figure (target …)` lines for the terminal. */
export function verdictLine(label, value, unit, target, pass) {
  const mark = pass === undefined ? '·' : pass ? '✓' : '✗';
  return `  ${mark} ${label}: ${value}${unit ? ` ${unit}` : ''}${target ? `  (target ${target})` : ''}`;
}

/** Decode a run directory's journal with the product's own decoder. */
export async function readJournal(outDir) {
  const { decodeJournal } = await import(join(ROOT, 'packages/batch/dist/state/_lines.js'));
  const bytes = await readFile(join(outDir, 'state/journal.jsonl'));
  return decodeJournal(bytes).records;
}
