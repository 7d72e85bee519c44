// Renders report.json, report.html and report.junit.xml for a small made-up run.
//   pnpm --filter @flf2v/reporter build && node packages/reporter/examples/render.mjs /tmp/flf2v-example
// then open /tmp/flf2v-example/report.html. (The package imports itself by name: Node resolves a package's
// own name through its "exports".)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { computeTotals, writeReports } from '@flf2v/reporter';

export function exampleSummary() {
  const request = (prompt) => ({
    selected_model: 'Viduq2-pro-FLF2V-fast',
    prompt,
    resolution: '720p',
    duration: 5,
    number_of_videos: 1,
    image: 'frames/dawn.png',
    last_image: 'frames/dusk.jpg',
  });
  const tasks = [
    {
      id: 'opening',
      key: '9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345678901234567890abcdef12',
      status: 'succeeded',
      stage: 'done',
      taskId: 'tsk_0001',
      attempts: 7,
      submissions: 1,
      timings: {
        queuedAt: '2025-05-14T21:00:00.000Z',
        submittedAt: '2025-05-14T21:00:02.000Z',
        completedAt: '2025-05-14T21:01:10.000Z',
        downloadedAt: '2025-05-14T21:01:12.000Z',
      },
      videos: [
        {
          path: 'videos/opening.mp4',
          url: 'https://results.example.com/v/opening.mp4',
          sha256: 'ab'.repeat(32),
          bytes: 1_843_200,
        },
      ],
      request: request('Sunrise over the park, mist lifting from the lake'),
    },
    {
      id: 'closing',
      key: '0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef1234',
      status: 'failed',
      stage: 'failed',
      taskId: 'tsk_0002',
      attempts: 3,
      submissions: 1,
      timings: {
        queuedAt: '2025-05-14T21:00:00.000Z',
        submittedAt: '2025-05-14T21:00:12.000Z',
        completedAt: '2025-05-14T21:00:40.000Z',
      },
      videos: [],
      error: {
        code: 'E_MODERATION',
        message: 'The prompt was rejected by content moderation.',
        retryable: false,
      },
      request: request('<b>Night</b> falls over the harbour'),
    },
  ];
  return {
    schemaVersion: 1,
    run: {
      name: 'example',
      manifest: 'jobs/example.yaml',
      outDir: '/tmp/flf2v-example',
      toolVersion: '0.1.0',
      startedAt: '2025-05-14T21:00:00.000Z',
      finishedAt: '2025-05-14T21:01:13.000Z',
      updatedAt: '2025-05-14T21:01:13.000Z',
      state: 'finished',
      limits: { submitRpm: 10 },
      requests: { upload: 4, submit: 2, status: 9, result: 2, download: 1 },
      rateLimited: 0,
      retries: 1,
    },
    totals: computeTotals(tasks),
    tasks,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(process.argv[2] ?? 'flf2v-example');
  const written = await writeReports(outDir, exampleSummary());
  console.log(`wrote\n  ${written.html}\n  ${written.json}\n  ${written.junit}`);
}
