// The script a user would write instead of flf2v, as the baseline of the overhead benchmark: a fixed-size
// promise pool over the rows of a CSV, global fetch, fixed-interval polling, downloads with fetch + writeFile,
// and the whole state rewritten as one JSON file (writeFileSync) after every event. No retries, no rate
// limiting, no journal: it is here to measure, not to copy.
//
// Where a choice could go either way it goes the baseline's way, so the ratio flf2v/naive is conservative:
// - each distinct frame is uploaded once (a Map from path to URL), not once per row;
// - a task is polled at once after its submit, then every --poll-ms until it is done (at zero task latency the
//   first poll already finds it complete, so the interval costs nothing here);
// - the state is written compactly (no pretty-printing) and only on 4 events per task: submitted, completed
//   (status and result URLs), downloaded, failed — not on every poll;
// - no fsync.
//
//   node bench/naive-baseline.mjs --manifest DIR/manifest.csv --out DIR/naive \
//     [--base-url URL] [--concurrency 16] [--poll-ms 1000] [--budget-s S]
// BAICAI_BASE_URL / BAICAI_API_KEY as for flf2v. --budget-s: stop taking new rows after S seconds (the state
// rewrite is O(rows) per event, so the whole run is O(rows²)); the summary says how many rows were done.
// Prints one JSON line: { done, failed, total, seconds, tasksPerSecond, stateWrites, stateBytes }.
import { writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    manifest: { type: 'string' },
    out: { type: 'string' },
    'base-url': { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    'poll-ms': { type: 'string', default: '1000' },
    'budget-s': { type: 'string' },
  },
});
const { env } = process;
const baseUrl = (flags['base-url'] ?? env.BAICAI_BASE_URL ?? '').replace(/\/+$/, '');
const apiKey = env.BAICAI_API_KEY ?? '';
const concurrency = Number(flags.concurrency);
const pollMs = Number(flags['poll-ms']);
const budgetMs = flags['budget-s'] ? Number(flags['budget-s']) * 1000 : Number.POSITIVE_INFINITY;
if (!flags.manifest || !flags.out || !baseUrl) {
  process.stderr.write('usage: naive-baseline.mjs --manifest CSV --out DIR [--base-url URL]\n');
  process.exit(2);
}
const manifestDir = dirname(resolve(flags.manifest));
const outDir = resolve(flags.out);
const statePath = join(outDir, 'state.json');
const auth = { authorization: `Bearer ${apiKey}` };

// --- the manifest: header row, then one task per row
const [header, ...rows] = (await readFile(flags.manifest, 'utf8')).trim().split('\n');
const columns = header.split(',');
const state = {
  tasks: rows.map((line) => {
    const cells = line.split(',');
    const row = Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
    return { ...row, duration: Number(row.duration), status: 'pending' };
  }),
};
await mkdir(join(outDir, 'videos'), { recursive: true });
let stateWrites = 0;
let stateBytes = 0;
function save() {
  const text = JSON.stringify(state);
  writeFileSync(statePath, text);
  stateWrites++;
  stateBytes = text.length;
}
save();

async function api(method, path, body, headers = {}) {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: { ...auth, ...headers }, body });
  const json = await res.json();
  if (!res.ok || json.code !== 0) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.data;
}

const uploads = new Map();
function upload(file) {
  let url = uploads.get(file);
  if (!url) {
    url = (async () => {
      const form = new FormData();
      const type = file.endsWith('.png') ? 'image/png' : 'image/jpeg';
      form.append('file', new Blob([await readFile(join(manifestDir, file))], { type }), basename(file));
      return (await api('POST', '/v1/resources/upload', form)).fullPath;
    })();
    uploads.set(file, url);
  }
  return url;
}

async function runTask(task) {
  const [image, lastImage] = await Promise.all([upload(task.image), upload(task.last_image)]);
  const { taskId } = await api(
    'POST',
    '/v1/videos/generations',
    JSON.stringify({
      selected_model: 'Viduq2-pro-FLF2V-fast',
      task_type: 'flf2video',
      input: {
        image,
        last_image: lastImage,
        prompt: task.prompt,
        resolution: task.resolution,
        duration: task.duration,
      },
    }),
    { 'content-type': 'application/json' },
  );
  task.taskId = taskId;
  task.status = 'submitted';
  save();
  for (;;) {
    const [status] = await api('GET', `/v1/comfyui/tasks/${taskId}/status`);
    if (status.status === 'COMPLETED') break;
    if (status.status === 'FAILED') throw new Error(`task ${taskId} failed`);
    await sleep(pollMs);
  }
  const { urls } = await api('GET', `/v1/comfyui/tasks/${taskId}/result`);
  task.status = 'completed';
  task.urls = urls;
  save();
  task.files = [];
  for (const [i, url] of urls.entries()) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`download ${res.status}`);
    const file = join('videos', urls.length > 1 ? `${task.id}-${i + 1}.mp4` : `${task.id}.mp4`);
    await writeFile(join(outDir, file), Buffer.from(await res.arrayBuffer()));
    task.files.push(file);
  }
  task.status = 'downloaded';
  save();
}

const started = performance.now();
let next = 0;
let done = 0;
let failed = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < state.tasks.length && performance.now() - started < budgetMs) {
      const task = state.tasks[next++];
      try {
        await runTask(task);
        done++;
      } catch (error) {
        task.status = 'failed';
        task.error = String(error);
        save();
        failed++;
      }
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({
    done,
    failed,
    total: state.tasks.length,
    seconds,
    tasksPerSecond: done / seconds,
    stateWrites,
    stateBytes,
    concurrency,
    pollMs,
  })}\n`,
);
