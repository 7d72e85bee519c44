import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Simulator, type SimulatorOptions, startSimulator } from '@flf2v/simulator';
import { afterEach } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'packages/batch/bin/flf2v.js');
export const FRAMES = join(ROOT, 'jobs/frames');

/** A key shaped like a real one, unique per test process, so a leak is unmistakable in any file. */
export const API_KEY = `sk-e2e${randomBytes(16).toString('hex')}`;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f().catch(() => {})));
});

export async function tempDir(prefix = 'flf2v-e2e-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A simulator on loopback, fast by default (tasks take ~0.3 s), closed after the test. */
export async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({
    seed: 7,
    ...options,
    timings: { pendingMs: 50, runningMs: 250, jitterRatio: 0.2, ...options.timings },
    limits: { submit: null, query: null, maxRunningPerKey: null, ...options.limits },
  });
  cleanups.push(() => sim.close());
  return sim;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cliEnv(sim: Simulator | undefined, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FLF2V_CACHE_DIR: join(tmpdir(), `flf2v-e2e-cache-${process.pid}`),
    ...(sim ? { BAICAI_BASE_URL: sim.url, BAICAI_API_KEY: API_KEY } : {}),
    ...extra,
  };
}

/** Spawn the real CLI. */
export function spawnCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildProcess & {
  result: Promise<CliResult>;
} {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? cliEnv(undefined),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await result;
  });
  return Object.assign(child, { result });
}

export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return spawnCli(args, options).result;
}

const FRAME_PAIRS = [
  ['dawn.png', 'noon.jpg'],
  ['noon.jpg', 'dusk.jpg'],
  ['dusk.jpg', 'night.png'],
  ['night.png', 'dawn.png'],
] as const;

/**
 * A CSV job of `tasks` rows in `dir` that share the four landscape frames (copied beside it), each with its
 * own prompt. Extra columns per row come from `row(i)`.
 */
export async function writeCsvJob(
  dir: string,
  tasks: number,
  options: {
    name?: string;
    row?: (i: number) => Record<string, string | number>;
    prompt?: (i: number) => string;
    yaml?: string;
  } = {},
): Promise<string> {
  await mkdir(join(dir, 'frames'), { recursive: true });
  for (const f of ['dawn.png', 'noon.jpg', 'dusk.jpg', 'night.png'])
    await copyFile(join(FRAMES, f), join(dir, 'frames', f));
  const extra = options.row ? Object.keys(options.row(0)) : [];
  const lines = [['id', 'image', 'last_image', 'prompt', ...extra].join(',')];
  for (let i = 0; i < tasks; i++) {
    const [a, b] = FRAME_PAIRS[i % FRAME_PAIRS.length]!;
    const more = options.row ? Object.values(options.row(i)).map(String) : [];
    lines.push(
      [
        `shot-${String(i + 1).padStart(3, '0')}`,
        `frames/${a}`,
        `frames/${b}`,
        `"${options.prompt?.(i) ?? `Shot ${i + 1}: the light changes, 镜头 ${i + 1}`}"`,
        ...more,
      ].join(','),
    );
  }
  await writeFile(join(dir, 'tasks.csv'), `${lines.join('\n')}\n`);
  const name = options.name ?? 'e2e';
  await writeFile(
    join(dir, 'job.yaml'),
    `version: 1\nname: ${name}\ntasks_csv: tasks.csv\n${options.yaml ?? ''}`,
  );
  return join(dir, 'job.yaml');
}

export interface ReportJson {
  totals: { tasks: number; succeeded: number; failed: number; pending: number; unknown: number };
  run: {
    requests: Record<string, number>;
    rateLimited: number;
    state: string;
    stoppedBy?: { code: string; message: string; retryable: boolean };
  };
  tasks: {
    id: string;
    key: string;
    take?: number;
    chosen?: boolean;
    status: string;
    stage?: string;
    taskId?: string;
    submissions: number;
    attempts: number;
    videos: { path: string; sha256: string; bytes: number }[];
    error?: { code: string; message: string };
  }[];
}

export async function readReport(outDir: string): Promise<ReportJson> {
  return JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8')) as ReportJson;
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if ((await stat(p)).isFile() && (await readFile(p)).includes(needle)) hits.push(p);
    }
  };
  await walk(dir);
  return hits;
}

/**
 * The ledger oracle: every downloaded video is byte-identical to one the simulator served for that task, and
 * no request was submitted more often than the `submissions` of the tasks that send it disclose (a shot's takes
 * send one request body).
 */
export async function checkAgainstLedger(sim: Simulator, outDir: string): Promise<void> {
  const ledger = sim.ledger();
  const report = await readReport(outDir);
  const served = new Map(ledger.videos.map((v) => [`${v.taskId}/${v.index}`, v.sha256]));
  const byTaskId = new Map(ledger.submissions.accepted.map((s) => [s.taskId, s.bodyHash]));
  const sentPerBody = new Map<string, number>();
  for (const s of ledger.submissions.accepted)
    sentPerBody.set(s.bodyHash, (sentPerBody.get(s.bodyHash) ?? 0) + 1);
  const disclosed = report.tasks.reduce((n, t) => n + t.submissions, 0);
  if (ledger.submissions.accepted.length > disclosed) {
    throw new Error(
      `the simulator accepted ${ledger.submissions.accepted.length} submissions; the report discloses ${disclosed}`,
    );
  }
  const disclosedPerBody = new Map<string, number>();
  for (const task of report.tasks) {
    const body = task.taskId ? byTaskId.get(task.taskId) : undefined;
    if (body) disclosedPerBody.set(body, (disclosedPerBody.get(body) ?? 0) + task.submissions);
  }
  for (const task of report.tasks) {
    for (const [i, video] of task.videos.entries()) {
      const onDisk = await sha256File(join(outDir, video.path));
      if (onDisk !== video.sha256)
        throw new Error(`${task.id}: ${video.path} does not match its recorded sha256`);
      if (served.get(`${task.taskId}/${i}`) !== onDisk) {
        throw new Error(`${task.id}: ${video.path} is not what the simulator served for ${task.taskId}/${i}`);
      }
    }
    const body = task.taskId ? byTaskId.get(task.taskId) : undefined;
    if (body && (sentPerBody.get(body) ?? 0) > disclosedPerBody.get(body)!) {
      throw new Error(
        `${task.id}: its request was sent ${sentPerBody.get(body)} times, but submissions say ${disclosedPerBody.get(body)}`,
      );
    }
  }
}

/** Poll `condition` until it holds (no timing assertion: a generous timeout only guards against hangs). */
export async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A simulator of short tasks whose first submit is answered only after `delayMs` (ms): a POST that stays on the
 * wire that long, to act on (status, kill -9) while it is. `untilOnTheWire` resolves once it has arrived.
 */
export async function slowFirstSubmit(
  delayMs: number,
): Promise<{ sim: Simulator; untilOnTheWire: () => Promise<void> }> {
  const sim = await simulator({
    timings: { pendingMs: 20, runningMs: 100 },
    faults: [{ kind: 'slow', endpoints: ['submit'], delayMs, count: 1 }],
  });
  return {
    sim,
    untilOnTheWire: () => waitFor(() => (sim.ledger().faults.byEndpoint['submit:slow'] ?? 0) >= 1),
  };
}
