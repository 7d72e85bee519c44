// Scale of the state journal: a run directory whose journal holds N finished tasks (default 100,000) — header,
// session, uploads, then per task planned, intent, submitted, completed, downloaded, as the runner writes them,
// encoded with the product's own encoder — and how long it takes to read back:
//   - replay() of the journal (what every resume and `flf2v status` does first), in a fresh process each time;
//   - the same after compaction (snapshot + a header-only journal), compacted by the FileStore itself;
//   - `flf2v status DIR` wall time, spawned, on both forms.
// After `pnpm build`:  node bench/journal-replay.mjs [--tasks 100000] [--repeat 2] [--keep DIR] [--profile DIR]
// Prints one JSON line.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeProfile } from './_cpuprofile.mjs';
import { bestOf, CLI, log, ROOT, round, runNode } from './_lib.mjs';

const DIST = join(ROOT, 'packages/batch/dist');
const TARGET_S = 2;

const sha = (s) => createHash('sha256').update(s).digest('hex');

/** Write the journal of a finished N-task run into `dir/state/journal.jsonl`. */
export async function generateJournal(dir, tasks) {
  const { encodeLine } = await import(pathToFileURL(join(DIST, 'state/_lines.js')).href);
  await mkdir(join(dir, 'state'), { recursive: true });
  const file = join(dir, 'state/journal.jsonl');
  const out = createWriteStream(file);
  const write = (record) => {
    const line = encodeLine(record);
    return out.write(line) ? undefined : new Promise((resolve) => out.once('drain', resolve));
  };
  const t0 = Date.parse('2026-03-01T09:00:00.000Z');
  const at = (ms) => new Date(t0 + ms).toISOString();
  const frames = ['dawn.png', 'dusk.jpg', 'night.png', 'noon.jpg'].map((f) => ({
    display: `../frames/${f}`,
    path: `/home/user/jobs/frames/${f}`,
    sha256: sha(f),
  }));
  const base = 'http://127.0.0.1:43117';
  await write({
    t: 'header',
    v: 1,
    generation: 0,
    tool: 'flf2v/0.1.0',
    job: 'bulk',
    manifestHash: sha('manifest'),
    createdAt: at(0),
  });
  await write({
    t: 'session',
    n: 1,
    at: at(1),
    tool: '0.1.0',
    manifestHash: sha('manifest'),
    manifest: 'jobs/bulk/bulk.yaml',
    pid: 4242,
    host: 'bench-host',
    limits: { submitRpm: 600, maxInFlight: 50 },
  });
  const key = (i) => sha(`task ${i}`);
  for (let i = 0; i < tasks; i++) {
    const a = frames[i % 4];
    const b = frames[(i + 1 + (Math.floor(i / 4) % 3)) % 4];
    await write({
      t: 'planned',
      key: key(i),
      id: `shot-${i}`,
      at: at(2),
      params: {
        selected_model: 'Viduq2-pro-FLF2V-fast',
        prompt: `The camera drifts forward as morning mist lifts off the river, revealing the old stone bridge (shot ${i})`,
        negative_prompt: 'blurry, low quality, distortion, watermark',
        resolution: i % 5 ? '720p' : '1080p',
        duration: [5, 6, 8][i % 3],
        number_of_videos: 1,
      },
      image: { ...a },
      last_image: { ...b },
    });
  }
  for (const [n, f] of frames.entries())
    await write({ t: 'uploaded', sha256: f.sha256, url: `${base}/files/${f.sha256}.png`, at: at(10 + n) });
  // Tasks move through their stages interleaved, as under a rate limit: submit i while i − 50 completes.
  const lag = 50;
  for (let step = 0; step < tasks + lag; step++) {
    const ms = 100 + step * 100;
    const i = step;
    if (i < tasks) {
      await write({ t: 'intent', key: key(i), n: 1, at: at(ms) });
      await write({
        t: 'submitted',
        key: key(i),
        n: 1,
        taskId: sha(`id ${i}`).slice(0, 32),
        at: at(ms + 40),
        attempts: 3,
      });
    }
    const j = step - lag;
    if (j >= 0) {
      const taskId = sha(`id ${j}`).slice(0, 32);
      const url = `${base}/videos/${taskId}/0.mp4?expires=${1772370000 + j}&sig=${sha(`sig ${j}`).slice(0, 32)}`;
      await write({ t: 'completed', key: key(j), taskId, urls: [url], at: at(ms + 60), attempts: 6 });
      await write({
        t: 'downloaded',
        key: key(j),
        index: 0,
        path: `videos/shot-${j}.mp4`,
        url,
        sha256: sha(`video ${j}`),
        bytes: 4400 + (j % 97),
        at: at(ms + 80),
        attempts: 7,
      });
    }
  }
  const stats = {
    upload: 4,
    submit: tasks,
    status: 2 * tasks,
    result: tasks,
    download: tasks,
    rateLimited: 0,
    retries: 0,
  };
  await write({ t: 'stats', session: 1, at: at((tasks + lag + 2) * 100), stats, state: 'finished' });
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
  return file;
}

/** Compact with the product's FileStore: snapshot (temp → fsync → rename) and a fresh header-only journal. */
async function compact(dir) {
  const { openFileStore } = await import(pathToFileURL(join(DIST, 'state/file-store.js')).href);
  const store = await openFileStore(dir);
  await store.compact();
  await store.close();
}

/** In a child: time replay(dir) once, after the module is loaded. */
async function measureReplay(dir) {
  const { replay } = await import(pathToFileURL(join(DIST, 'state/file-store.js')).href);
  const t0 = performance.now();
  const { state } = await replay(dir);
  const ms = performance.now() - t0;
  let succeeded = 0;
  for (const t of state.tasks.values()) if (t.phase === 'succeeded') succeeded++;
  process.stdout.write(
    `${JSON.stringify({ ms, tasks: state.tasks.size, succeeded, heapMB: process.memoryUsage().heapUsed / 2 ** 20 })}\n`,
  );
}

async function timeReplay(dir, repeat, nodeArgs = []) {
  const runs = [];
  for (let i = 0; i < repeat; i++) {
    const r = await runNode([new URL(import.meta.url).pathname, '--measure', dir], { nodeArgs });
    if (r.code !== 0) throw new Error(`replay failed: ${r.stderr.slice(0, 2000)}`);
    const m = JSON.parse(r.stdout);
    runs.push({
      seconds: round(m.ms / 1000, 3),
      tasks: m.tasks,
      succeeded: m.succeeded,
      peakRssMB: round(r.peakRssMB, 1),
    });
  }
  return runs;
}

async function timeStatus(dir, repeat) {
  const runs = [];
  for (let i = 0; i < repeat; i++) {
    const r = await runNode([CLI, 'status', dir, '--json']);
    if (r.code !== 0) throw new Error(`flf2v status failed (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
    const totals = JSON.parse(r.stdout).totals;
    runs.push({
      seconds: round(r.seconds, 3),
      succeeded: totals.succeeded,
      peakRssMB: round(r.peakRssMB, 1),
    });
  }
  return runs;
}

const summarize = (runs) => ({
  seconds: bestOf(
    runs.map((r) => r.seconds),
    'lower',
  ),
  peakRssMB: bestOf(
    runs.map((r) => r.peakRssMB),
    'lower',
  ),
  runs,
});

export async function journalReplay({ tasks = 100_000, repeat = 2, keep, profileDir } = {}) {
  const dir = keep ?? (await mkdtemp(join(tmpdir(), 'flf2v-bench-journal-')));
  try {
    log(`journal: generating ${tasks.toLocaleString('en-US')} finished tasks in ${dir}…`);
    const t0 = performance.now();
    const file = await generateJournal(dir, tasks);
    const journalMB = (await stat(file)).size / 2 ** 20;
    log(`  ${round(journalMB, 1)} MB in ${round((performance.now() - t0) / 1000, 1)} s; timing replay…`);
    const replayJournal = summarize(await timeReplay(dir, repeat));
    const statusJournal = summarize(await timeStatus(dir, repeat));
    let profile;
    if (profileDir) {
      log(`  profiling one more replay (--cpu-prof into ${profileDir})…`);
      await mkdir(profileDir, { recursive: true });
      await timeReplay(dir, 1, ['--cpu-prof', '--cpu-prof-dir', profileDir]);
      const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
      profile = await summarizeProfile(join(profileDir, file), 15);
    }
    await compact(dir);
    const snapshotMB = (await stat(join(dir, 'state/snapshot.json'))).size / 2 ** 20;
    const replaySnapshot = summarize(await timeReplay(dir, repeat));
    const statusSnapshot = summarize(await timeStatus(dir, repeat));
    const ok = [replayJournal, replaySnapshot].every((x) => x.runs.every((r) => r.succeeded === tasks));
    return {
      tasks,
      journalRecords: 2 + 5 * tasks + 4 + 1,
      journalMB: round(journalMB, 1),
      snapshotMB: round(snapshotMB, 1),
      target: { replaySeconds: TARGET_S },
      replayJournal,
      replaySnapshot,
      statusJournal,
      statusSnapshot,
      pass: replayJournal.seconds.best <= TARGET_S,
      ok,
      profile,
    };
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      measure: { type: 'string' },
      tasks: { type: 'string', default: '100000' },
      repeat: { type: 'string', default: '2' },
      keep: { type: 'string' },
      profile: { type: 'string' },
    },
  });
  if (values.measure) await measureReplay(values.measure);
  else {
    const r = await journalReplay({
      tasks: Number(values.tasks),
      repeat: Number(values.repeat),
      keep: values.keep,
    });
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
}
