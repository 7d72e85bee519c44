import { createHash } from 'node:crypto';
import { computeTotals, type RunSummary, type TaskSummary } from '../src/index.js';

/** Frames the realistic summary points at, relative to the run directory (copied from jobs/frames). */
export const FRAME_FILES = ['dawn.png', 'noon.jpg', 'dusk.jpg', 'night.png', 'portrait.jpg'] as const;

export const SCRIPT_PROMPT = '<script>alert(1)</script> the camera pans slowly across the harbour';
export const CHINESE_PROMPT = '一只橘猫在窗台上伸懒腰，阳光慢慢移过房间';
export const HOSTILE_MESSAGE = 'rejected: <img src=x onerror=alert(2)> & "quotes" \u2028 end';

const START = Date.parse('2025-05-14T21:00:00.000Z');
const iso = (offsetMs: number) => new Date(START + offsetMs).toISOString();
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

const PROMPTS = [
  'Sunrise over the park, mist lifting from the lake as joggers pass',
  'The camera dollies forward through the market as stalls open',
  'Time-lapse of clouds rolling over the city skyline, warm light',
  'A paper boat drifts down a rain-filled gutter, close-up',
  'Slow orbit around a ceramic vase as the light shifts from noon to dusk',
  'Street lamps flicker on one by one along the boulevard',
  'A cyclist crosses the bridge; the shot follows from the side',
  'Product shot: a sneaker rotates on a turntable, studio lighting',
];

/** A deterministic pseudo-random sequence, so fixtures and screenshots are stable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Shape {
  id: string;
  status: TaskSummary['status'];
  prompt?: string;
  videos?: number;
  error?: TaskSummary['error'];
  stage?: string;
  progress?: number;
  submissions?: number;
  remoteFrames?: boolean;
}

function task(shape: Shape, i: number, random: () => number): TaskSummary {
  const prompt = shape.prompt ?? PROMPTS[i % PROMPTS.length]!;
  const first = FRAME_FILES[i % FRAME_FILES.length]!;
  const last = FRAME_FILES[(i + 1) % FRAME_FILES.length]!;
  const queued = 200 + i * 50;
  const submitted = 1_000 + i * 9_500 + Math.round(random() * 3_000);
  const completed = submitted + 40_000 + Math.round(random() * 70_000);
  const downloaded = completed + 800 + Math.round(random() * 3_000);
  const key = sha(`${shape.id}:${prompt}`);
  const image = shape.remoteFrames ? `https://cdn.example.com/frames/${first}` : `../../jobs/frames/${first}`;
  const lastImage = shape.remoteFrames
    ? `https://cdn.example.com/frames/${last}`
    : `../../jobs/frames/${last}`;
  const base: TaskSummary = {
    id: shape.id,
    key,
    status: shape.status,
    attempts: 0,
    submissions: shape.submissions ?? 1,
    timings: { queuedAt: iso(queued) },
    videos: [],
    request: {
      selected_model: 'Viduq2-pro-FLF2V-fast',
      prompt,
      resolution: '720p',
      duration: 5,
      number_of_videos: shape.videos && shape.videos > 1 ? shape.videos : 1,
      image,
      last_image: lastImage,
    },
    frames: shape.remoteFrames
      ? { image, last_image: lastImage }
      : { image: `frames/${first}`, last_image: `frames/${last}` },
  };
  if (i % 7 === 3) base.request.negative_prompt = 'blurry, watermark, text';
  if (i % 5 === 0) base.request.need_expand_prompt = true;
  if (shape.stage) base.stage = shape.stage;
  if (shape.progress !== undefined) base.progress = shape.progress;
  switch (shape.status) {
    case 'succeeded': {
      const n = shape.videos ?? 1;
      base.taskId = `tsk_${key.slice(0, 16)}`;
      base.stage = 'done';
      base.attempts = 6 + Math.round(random() * 6);
      base.timings = {
        queuedAt: iso(queued),
        submittedAt: iso(submitted),
        completedAt: iso(completed),
        downloadedAt: iso(downloaded),
      };
      base.videos = Array.from({ length: n }, (_, k) => {
        const path = n > 1 ? `videos/${shape.id}-${k + 1}.mp4` : `videos/${shape.id}.mp4`;
        return {
          path,
          url: `https://results.example.com/v/${key.slice(0, 12)}-${k + 1}.mp4`,
          sha256: sha(path),
          bytes: 5_061,
        };
      });
      break;
    }
    case 'failed':
      base.taskId = shape.error?.code === 'E_VALIDATION' ? undefined : `tsk_${key.slice(0, 16)}`;
      base.stage = 'failed';
      base.attempts = 3 + Math.round(random() * 4);
      base.timings =
        base.taskId === undefined
          ? { queuedAt: iso(queued) }
          : { queuedAt: iso(queued), submittedAt: iso(submitted), completedAt: iso(completed) };
      break;
    case 'pending':
      if (shape.stage === 'running') {
        base.taskId = `tsk_${key.slice(0, 16)}`;
        base.attempts = 4;
        base.timings = { queuedAt: iso(queued), submittedAt: iso(submitted) };
      }
      break;
    case 'unknown':
      base.stage = 'unknown';
      base.attempts = 1;
      base.timings = { queuedAt: iso(queued), submittedAt: iso(submitted) };
      break;
  }
  if (shape.error) base.error = shape.error;
  return base;
}

/** A 30-task run with every outcome, several videos per task, a Chinese prompt and a hostile one. */
export function realisticSummary(state: RunSummary['run']['state'] = 'finished'): RunSummary {
  const random = rng(7);
  const shapes: Shape[] = [];
  for (let i = 1; i <= 30; i++)
    shapes.push({ id: `shot-${String(i).padStart(2, '0')}`, status: 'succeeded' });
  const set = (i: number, shape: Partial<Shape>) => {
    shapes[i - 1] = { ...shapes[i - 1]!, ...shape };
  };
  set(3, { videos: 2 });
  set(4, { prompt: CHINESE_PROMPT });
  set(6, { id: 'park bench #2', videos: 3 });
  set(8, {
    status: 'failed',
    prompt: SCRIPT_PROMPT,
    error: {
      code: 'E_MODERATION',
      message: 'The prompt was rejected by content moderation.',
      retryable: false,
    },
  });
  set(11, {
    status: 'failed',
    error: {
      code: 'E_MODERATION',
      message: 'The first frame was rejected by content moderation.',
      retryable: false,
    },
  });
  set(14, { status: 'failed', error: { code: 'E_BAD_RESPONSE', message: HOSTILE_MESSAGE, retryable: true } });
  set(17, {
    status: 'failed',
    error: {
      code: 'E_PROVIDER_FAILED',
      message: 'The provider reported the task as failed: internal error (500).',
      retryable: false,
    },
  });
  set(20, { remoteFrames: true });
  set(22, { submissions: 2 });
  set(24, {
    status: 'unknown',
    error: {
      code: 'E_TIMEOUT',
      message: 'No answer within 60 s after the request body was sent.',
      retryable: true,
    },
  });
  set(27, { status: 'unknown' });
  set(29, { status: 'pending', stage: 'running', progress: 60 });
  set(30, { status: 'pending', stage: 'planned' });
  const tasks = shapes.map((shape, i) => task(shape, i, random));
  const end = Math.max(...tasks.flatMap((t) => Object.values(t.timings).map((x) => Date.parse(x!)))) + 1_500;
  return {
    schemaVersion: 1,
    run: {
      name: 'spring-campaign',
      manifest: 'jobs/spring-campaign.yaml',
      outDir: '/home/mei/flf2v/runs/spring-campaign',
      toolVersion: '0.1.0',
      startedAt: iso(0),
      ...(state === 'running' ? {} : { finishedAt: new Date(end).toISOString() }),
      updatedAt: new Date(end).toISOString(),
      state,
      limits: { submitRpm: 6, maxInFlight: 8 },
      requests: { upload: 60, submit: 29, status: 412, result: 24, download: 28 },
      rateLimited: 7,
      retries: 11,
      removedTasks: 1,
    },
    totals: computeTotals(tasks),
    tasks,
  };
}

/** `n` tasks in the spirit of a nightly bulk job: mostly successes, some failures, a tail still pending. */
export function bulkSummary(n: number): RunSummary {
  const random = rng(42);
  const tasks: TaskSummary[] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    const status: TaskSummary['status'] =
      i >= n - n / 50 ? 'pending' : r < 0.05 ? 'failed' : r < 0.055 ? 'unknown' : 'succeeded';
    const shape: Shape = { id: `bulk-${String(i + 1).padStart(5, '0')}`, status };
    if (status === 'failed') {
      shape.error =
        r < 0.03
          ? {
              code: 'E_MODERATION',
              message: 'The prompt was rejected by content moderation.',
              retryable: false,
            }
          : {
              code: 'E_PROVIDER_FAILED',
              message: `The provider reported the task as failed (trace ${i}).`,
              retryable: false,
            };
    }
    if (status === 'pending') shape.stage = 'running';
    shape.prompt = `${PROMPTS[i % PROMPTS.length]} — variation ${i + 1}`;
    const t = task(shape, i, random);
    // Spread 10,000 submissions over a realistic few hours rather than 9.5 s apart.
    for (const k of Object.keys(t.timings) as (keyof TaskSummary['timings'])[]) {
      const at = Date.parse(t.timings[k]!);
      t.timings[k] = iso((at - START) / 8);
    }
    tasks.push(t);
  }
  const end = START + (n * 9_500) / 8 + 120_000;
  return {
    schemaVersion: 1,
    run: {
      name: 'nightly-bulk',
      manifest: 'jobs/nightly.yaml',
      outDir: '/srv/flf2v/runs/nightly-2025-05-14',
      toolVersion: '0.1.0',
      startedAt: iso(0),
      updatedAt: new Date(end).toISOString(),
      state: 'running',
      limits: { submitRpm: 50, queryRpm: 600, maxInFlight: 64 },
      requests: { upload: 2 * n, submit: n, status: 9 * n, result: n, download: n },
      rateLimited: 120,
      retries: 300,
    },
    totals: computeTotals(tasks),
    tasks,
  };
}

/** A film of three of the realistic summary's shots, with names that need escaping and encoding. */
export function filmOf(summary: RunSummary): NonNullable<RunSummary['film']> {
  const shots = summary.tasks.filter((t) => t.videos.length > 0).slice(0, 3);
  return {
    path: 'films/<day> #1.mp4',
    createdAt: '2025-05-14T22:00:00.000Z',
    duration: 15,
    bytes: 123_456,
    sha256: sha('film'),
    method: 'copy',
    shots: shots.map((t) => ({
      id: t.id,
      key: t.key,
      path: t.videos[0]!.path,
      sha256: t.videos[0]!.sha256,
      duration: 5,
    })),
  };
}

/**
 * The realistic summary with a second take of its first two succeeded shots (one with an id that needs
 * escaping), the second take of the first chosen.
 */
export function withTakes(summary: RunSummary): RunSummary {
  const done = summary.tasks.filter((t) => t.status === 'succeeded').slice(0, 2);
  done[1]!.id = '<b>shot</b> #2';
  const takes = done.map(
    (t, i): TaskSummary => ({
      ...t,
      key: sha(`${t.key}:take2`),
      take: 2,
      chosen: i === 0,
      status: i === 0 ? 'succeeded' : 'pending',
      stage: i === 0 ? 'done' : 'running',
      videos: i === 0 ? t.videos.map((v) => ({ ...v, path: v.path.replace('.mp4', '~take2.mp4') })) : [],
    }),
  );
  done[0]!.chosen = false;
  const tasks = [...summary.tasks, ...takes];
  return { ...summary, totals: computeTotals(tasks), tasks };
}
