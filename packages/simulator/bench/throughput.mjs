// Rough throughput of the simulator alone: N tasks at zero task latency, each submit → status → result →
// download over keep-alive connections, C at a time. Client and server share this process (and the machine's
// cores), so the figure is a floor for the server. Run after `pnpm --filter @flf2v/simulator build`:
//   node packages/simulator/bench/throughput.mjs [tasks=10000] [concurrency=32]
import { Agent, request } from 'node:http';
import { startSimulator } from '../dist/index.js';

const tasks = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 32);
const sim = await startSimulator({
  seed: 1,
  timings: { pendingMs: 0, runningMs: 0, jitterRatio: 0 },
  limits: { submit: null, query: null, maxRunningPerKey: null },
});
const { hostname, port } = new URL(sim.url);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const auth = { authorization: 'Bearer sk-bench' };

function send(method, path, headers = {}, body) {
  return new Promise((resolve, reject) => {
    const req = request({ agent, hostname, port, method, path, headers: { ...auth, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = async (...args) => JSON.parse((await send(...args)).body.toString());
const submitBody = (i) =>
  JSON.stringify({
    selected_model: 'Viduq2-pro-FLF2V-fast',
    task_type: 'flf2video',
    input: {
      image: 'https://example.com/a.png',
      last_image: 'https://example.com/b.png',
      prompt: `bench task ${i}`,
      resolution: '720p',
      duration: 5,
    },
  });

async function one(i) {
  const s = await json(
    'POST',
    '/v1/videos/generations',
    { 'content-type': 'application/json' },
    submitBody(i),
  );
  const id = s.data.taskId;
  const st = await json('GET', `/v1/comfyui/tasks/${id}/status`);
  if (st.data[0].status !== 'COMPLETED') throw new Error(`task ${id} is ${st.data[0].status}`);
  const r = await json('GET', `/v1/comfyui/tasks/${id}/result`);
  const url = new URL(r.data.urls[0]);
  const v = await send('GET', url.pathname + url.search);
  if (v.status !== 200) throw new Error(`download ${v.status}`);
}

let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < tasks) await one(next++);
  }),
);
const seconds = (performance.now() - t0) / 1000;
const ledger = sim.ledger();
const requests = Object.values(ledger.requests.counts).reduce((a, b) => a + b, 0);
console.log(
  `${tasks} tasks in ${seconds.toFixed(2)} s: ${(tasks / seconds).toFixed(0)} tasks/s, ${(requests / seconds).toFixed(0)} requests/s ` +
    `(concurrency ${concurrency}, ${ledger.videos.length} videos served, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`,
);
agent.destroy();
await sim.close();
