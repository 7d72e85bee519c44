import { type Envelope, findTaskId, first, isObj, pick } from './_envelope.js';
import { apiError, type Exchange } from './_exchange.js';
import type { ApiError } from './errors.js';
import { parseProviderTimestamp } from './timestamp.js';
import type { ResultUrls, StatusResult, SubmitResult, TaskStatus, UploadResult } from './types.js';

/**
 * Reading the `data` of a successful envelope. The upload, status and result shapes are inferred (API.md), so
 * each reader accepts the documented shape plus close relatives (object or one-element array, a few field
 * spellings) and otherwise fails with `E_BAD_RESPONSE` naming what it expected.
 */

function badShape(ex: Exchange, expected: string, text: string): ApiError {
  return apiError(ex, 'E_BAD_RESPONSE', `expected ${expected}`, 'maybe', { status: ex.status, body: text });
}

export function parseSubmit(ex: Exchange, env: Envelope, text: string): SubmitResult {
  const taskId = findTaskId(env);
  if (taskId === undefined) throw badShape(ex, 'data.taskId (a non-empty string)', text);
  const ts = parseProviderTimestamp(env.ts ?? env.timestamp);
  return ts === undefined ? { taskId } : { taskId, ts };
}

const UPLOAD_KEYS = ['fullPath', 'full_path', 'url', 'fileUrl', 'file_url', 'path'];

export function parseUpload(ex: Exchange, env: Envelope, text: string, baseUrl: string): UploadResult {
  const data = first(env.data);
  const value = typeof data === 'string' ? data : pick(data, UPLOAD_KEYS);
  if (typeof value === 'string') {
    if (/^https?:\/\//i.test(value)) return { url: value, raw: env };
    // A bare path: the provider serves it from its own origin.
    if (value.startsWith('/')) return { url: new URL(value, baseUrl).href, raw: env };
  }
  throw badShape(ex, 'data.fullPath (the uploaded file URL)', text);
}

const STATUS_SYNONYMS: Readonly<Record<string, TaskStatus>> = {
  PENDING: 'PENDING',
  RUNNING: 'RUNNING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELED: 'CANCELED',
  // Spellings of the documented terminal states: mapping them keeps a finished task from being polled forever.
  CANCELLED: 'CANCELED',
  SUCCESS: 'COMPLETED',
  SUCCEEDED: 'COMPLETED',
};

/** "45%", 45, "45" and 0.45 all mean 45 (%). Returns 0–100, or undefined when unparsable. */
export function parseProgress(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(value);
    if (!m) return undefined;
    n = Number(m[1]);
    if (m[2] === '%') return Math.min(100, n);
  } else return undefined;
  if (!Number.isFinite(n) || n < 0) return undefined;
  if (n > 0 && n < 1) n *= 100;
  return Math.min(100, Math.round(n * 100) / 100);
}

export function parseStatus(ex: Exchange, env: Envelope, text: string): StatusResult {
  if (Array.isArray(env.data) && env.data.length === 0)
    throw badShape(ex, 'data[0].status, got an empty data array', text);
  const item = first(env.data);
  const raw = pick(item, ['status', 'state', 'taskStatus', 'task_status']);
  if (typeof raw !== 'string' && typeof raw !== 'number')
    throw badShape(ex, 'data.status or data[0].status', text);
  const rawStatus = String(raw);
  const status = STATUS_SYNONYMS[rawStatus.trim().toUpperCase()] ?? 'UNKNOWN';
  const out: StatusResult = { status, rawStatus, raw: env };
  const progress = parseProgress(pick(item, ['progress', 'percent', 'percentage']));
  if (progress !== undefined) out.progress = progress;
  const message = pick(item, [
    'message',
    'errorMessage',
    'error_message',
    'failReason',
    'fail_reason',
    'reason',
    'error',
    'msg',
  ]);
  if (typeof message === 'string') out.message = message;
  return out;
}

const URL_KEYS = [
  'urls',
  'url',
  'videos',
  'video_urls',
  'videoUrls',
  'video_url',
  'videoUrl',
  'video',
  'result',
  'results',
  'output',
  'outputs',
];

function collectUrls(value: unknown, out: string[], depth: number): void {
  if (depth > 5) return;
  if (typeof value === 'string') {
    if (/^https?:\/\//i.test(value) && !out.includes(value)) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectUrls(v, out, depth + 1);
  } else if (isObj(value)) {
    for (const k of URL_KEYS) if (value[k] !== undefined) collectUrls(value[k], out, depth + 1);
  }
}

export function parseResult(ex: Exchange, env: Envelope, text: string): ResultUrls {
  const urls: string[] = [];
  collectUrls(env.data, urls, 0);
  if (urls.length === 0) throw badShape(ex, 'http(s) URLs in data.urls or data[0].result.urls', text);
  return { urls, raw: env };
}
