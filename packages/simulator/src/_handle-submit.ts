import type { IncomingMessage } from 'node:http';
import { submissionBodyHash } from './_canonical-json.js';
import { CODE, MODERATION_MESSAGE } from './_codes.js';
import { requireKey, sendBusinessError, sendOk, sendRateLimited } from './_endpoint.js';
import { type Exchange, sendJson } from './_respond.js';
import type { SimState } from './_state.js';
import { checkFrames, checkSubmission, type Submission } from './_submit-rules.js';
import type { Task } from './_tasks.js';
import type { TaskTimingInput, TimingOptions } from './types.js';

/** `POST /v1/videos/generations` */
export async function handleSubmit(sim: SimState, ex: Exchange): Promise<void> {
  const key = requireKey(sim, ex);
  if (key === undefined) return sim.ledger.submissionRejected('auth');
  const { limits, responses } = sim.opts;
  const waitMs = sim.takeLimit('submit', key, sim.now());
  if (waitMs > 0) {
    sim.ledger.submissionRejected('rate-limit');
    return sendRateLimited(sim, ex, waitMs, responses.retryAfterFormat, CODE.RATE_LIMITED);
  }

  const raw = await readBody(ex.req, limits.maxBodyBytes);
  const invalidStatus = responses.validationErrors === 'http-400' ? 400 : 200;
  if (raw === undefined) {
    sim.ledger.submissionRejected('body-too-large');
    return sendBusinessError(sim, ex, CODE.TOO_LARGE, `body larger than ${limits.maxBodyBytes} bytes`, 413);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    sim.ledger.submissionRejected('invalid-json');
    return sendBusinessError(
      sim,
      ex,
      CODE.BAD_JSON,
      'invalid request: body is not valid JSON',
      invalidStatus,
    );
  }
  const checked = checkSubmission(body, limits);
  const frameCheck = checked.ok
    ? checkFrames(checked.value.image, checked.value.lastImage, sim.uploads, limits)
    : undefined;
  const problems = checked.ok ? (frameCheck?.problems ?? []) : checked.problems;
  if (!checked.ok || problems.length > 0) {
    sim.ledger.submissionRejected('validation');
    return sendBusinessError(
      sim,
      ex,
      CODE.INVALID_PARAM,
      `invalid parameter: ${problems.join('; ')}`,
      invalidStatus,
    );
  }
  const submission = checked.value;
  if (sim.opts.moderationPattern?.test(submission.prompt)) {
    sim.ledger.submissionRejected('moderation');
    return sendJson(sim.ledger, ex, 400, { message: MODERATION_MESSAGE });
  }

  const now = sim.now();
  if (limits.overCapacity === 'reject') {
    const { running, nextFreeAt } = sim.tasks.occupancy(key, now);
    if (running >= sim.tasks.capacity) {
      sim.ledger.submissionRejected('capacity');
      const message = `too many running tasks: ${running} running, limit ${sim.tasks.capacity}`;
      return sendRateLimited(
        sim,
        ex,
        nextFreeAt - now,
        responses.retryAfterFormat,
        CODE.TOO_MANY_RUNNING,
        message,
      );
    }
  }

  const task = createTask(sim, key, submission, now);
  const frames = frameCheck?.frames;
  task.frames = frames ? [frames[0].sha256, frames[1].sha256] : undefined;
  // Started now, so that the clip is ready by the time the task completes.
  if (frames) sim.renderFor(task, frames);
  const bodyHash = submissionBodyHash(body);
  sim.ledger.submissionAccepted({ taskId: task.id, bodyHash, at: now, key });
  sim.ledger.taskCreated(key);
  sim.tasks.add(task, now);
  sim.remember(task);
  sendOk(sim, ex, '任务提交成功', { taskId: task.id });
}

function createTask(sim: SimState, key: string, s: Submission, now: number): Task {
  const { timings } = sim.opts;
  const jitter = timings.jitterRatio > 0 ? 1 + (sim.jitter.next() * 2 - 1) * timings.jitterRatio : 1;
  const timing: TaskTimingInput = {
    resolution: s.resolution,
    duration: s.duration,
    numberOfVideos: s.numberOfVideos,
    prompt: s.prompt,
  };
  const failByPattern = sim.opts.failPattern?.test(s.prompt) ?? false;
  const failByChance =
    !failByPattern && sim.opts.failureRate > 0 && sim.failures.next() < sim.opts.failureRate;
  let id = sim.ids.hex(16);
  while (sim.tasks.has(id)) id = sim.ids.hex(16);
  return {
    id,
    key,
    submittedAt: now,
    pendingMs: Math.round(timings.pendingMs * jitter),
    runningMs: Math.round(runningMsFor(timings.runningMs, timing) * jitter),
    admittedAt: Number.NaN,
    endAt: Number.NaN,
    outcome: failByPattern || failByChance ? 'FAILED' : 'COMPLETED',
    failMessage: failByPattern
      ? 'generation failed: the prompt matched the simulated failure pattern'
      : failByChance
        ? 'generation failed: simulated random failure'
        : undefined,
    numberOfVideos: s.numberOfVideos,
    duration: s.duration,
    frames: undefined,
  };
}

function runningMsFor(spec: TimingOptions['runningMs'], t: TaskTimingInput): number {
  if (typeof spec === 'number') return spec;
  if (typeof spec === 'function') {
    const ms = spec(t);
    return Number.isFinite(ms) && ms >= 0 ? ms : 0;
  }
  return spec[`${t.resolution}/${t.duration}`] ?? spec[t.resolution] ?? spec['*'] ?? 0;
}

/** The whole body, or undefined once it exceeds `maxBytes` (the rest is drained, not kept). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(tooLarge ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)),
    );
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}
