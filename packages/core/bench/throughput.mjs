// Client throughput at zero provider latency: a minimal provider in a child process (the other core), the
// client in this one doing upload → submit → status → result → download per task. Run after a build:
//   pnpm --filter @flf2v/core build && node packages/core/bench/throughput.mjs [tasks] [concurrency]
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === 'server') {
  const http = await import('node:http');
  const video = Buffer.alloc(16 * 1024, 1);
  let n = 0;
  const json = (res, body) => {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      if (url === '/v1/resources/upload')
        return json(res, { code: 0, data: { fullPath: `http://cdn.test/${++n}.png` } });
      if (url === '/v1/videos/generations')
        return json(res, {
          code: 0,
          data: { taskId: `t${++n}` },
          ts: '2026-02-02T10:44:54.716004004+08:00[Asia/Shanghai]',
        });
      if (url.endsWith('/status'))
        return json(res, { code: 0, data: [{ status: 'COMPLETED', progress: '100%' }] });
      if (url.endsWith('/result'))
        return json(res, {
          code: 0,
          data: { urls: [`http://127.0.0.1:${server.address().port}/v/${n}.mp4`] },
        });
      res.writeHead(200, { 'content-length': video.length });
      res.end(video);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const { createClient } = await import('../dist/index.js');
  const tasks = Number(process.argv[2] ?? 5000);
  const concurrency = Number(process.argv[3] ?? 64);
  const child = fork(fileURLToPath(import.meta.url), ['server']);
  const port = await new Promise((resolve) => child.once('message', resolve));
  const dir = await mkdtemp(join(tmpdir(), 'flf2v-bench-'));
  let requests = 0;
  const client = createClient({
    apiKey: 'sk-bench',
    baseUrl: `http://127.0.0.1:${port}`,
    onAttempt: () => requests++,
  });
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
  const request = (image) => ({
    selected_model: 'Viduq2-pro-FLF2V-fast',
    task_type: 'flf2video',
    input: { image, last_image: image, prompt: 'a dog wakes up', resolution: '720p', duration: 5 },
  });
  async function task(i) {
    const { url } = await client.upload(png);
    const { taskId } = await client.submit(request(url));
    await client.status(taskId);
    const { urls } = await client.result(taskId);
    if (!process.env.BENCH_NO_DOWNLOAD) await client.download(urls[0], join(dir, `${i}.mp4`));
  }
  async function run(count) {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await task(next++);
      }),
    );
    return performance.now() - started;
  }
  await run(Math.min(500, tasks)); // warm-up
  requests = 0;
  const cpu0 = process.cpuUsage();
  const ms = await run(tasks);
  const cpu = process.cpuUsage(cpu0);
  const line = {
    tasks,
    concurrency,
    seconds: +(ms / 1000).toFixed(2),
    tasksPerSecond: Math.round((tasks / ms) * 1000),
    requestsPerSecond: Math.round((requests / ms) * 1000),
    clientCpuMsPerRequest: +((cpu.user + cpu.system) / 1000 / requests).toFixed(3),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  await client.close();
  child.kill();
  await rm(dir, { recursive: true, force: true });
}
