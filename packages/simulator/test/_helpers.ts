import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterEach } from 'vitest';
import { type Simulator, type SimulatorOptions, startSimulator } from '../src/index.js';

export const KEY = 'sk-test-0123456789';
export const AUTH = { authorization: `Bearer ${KEY}` };

const running: Simulator[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temp directory, removed after the test (after its simulators closed). */
export async function tempDir(prefix = 'flf2v-sim-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A simulator closed after the test; tasks are instant unless the test says otherwise. */
export async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({
    seed: 42,
    ...options,
    timings: { pendingMs: 0, runningMs: 0, jitterRatio: 0, ...options.timings },
  });
  running.push(sim);
  return sim;
}

/** A clock the test moves by hand. */
export function fakeClock(start = Date.UTC(2026, 1, 2, 2, 44, 54, 716)) {
  let now = start;
  return {
    clock: () => now,
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

export interface Json {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected loosely
  body: any;
  text: string;
}

export async function call(url: string, init: RequestInit = {}): Promise<Json> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export function upload(
  sim: Simulator,
  bytes: Uint8Array,
  filename = 'frame.png',
  headers: Record<string, string> = AUTH,
) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), filename);
  return call(`${sim.url}/v1/resources/upload`, { method: 'POST', headers, body: form });
}

export function submit(sim: Simulator, body: unknown, headers: Record<string, string> = AUTH) {
  return call(`${sim.url}/v1/videos/generations`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function status(sim: Simulator, taskId: string, headers: Record<string, string> = AUTH) {
  return call(`${sim.url}/v1/comfyui/tasks/${taskId}/status`, { headers });
}

export function result(sim: Simulator, taskId: string, headers: Record<string, string> = AUTH) {
  return call(`${sim.url}/v1/comfyui/tasks/${taskId}/result`, { headers });
}

/** The first entry of a task's status answer (`{ status, progress }`). */
export async function stateOf(sim: Simulator, id: string) {
  return (await status(sim, id)).body.data[0];
}

/** A valid request body; `input` fields override. */
export function body(input: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    selected_model: 'Viduq2-pro-FLF2V-fast',
    task_type: 'flf2video',
    input: {
      image: 'https://example.com/first.png',
      last_image: 'https://example.com/last.png',
      prompt: 'a quiet valley at dawn',
      resolution: '720p',
      duration: 5,
      ...input,
    },
    ...top,
  };
}

/** Submit a valid task and return its id (fails the test otherwise). */
export async function submitTask(sim: Simulator, input: Record<string, unknown> = {}): Promise<string> {
  const r = await submit(sim, body(input));
  if (r.body?.code !== 0) throw new Error(`submit failed: ${r.status} ${r.text}`);
  return r.body.data.taskId as string;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A real (grey, 8-bit RGB) PNG of the given size; `seed` varies its pixels so hashes differ. */
export function png(width: number, height: number, seed = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3, (seed * 37) % 256);
  row[0] = 0;
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The head of a baseline JPEG (SOI, APP0, SOF0) with the given size: enough to sniff, not to decode. */
export function jpegHead(width: number, height: number): Buffer {
  const app0 = [
    0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00,
  ];
  const sof0 = [0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03];
  const comps = [0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01];
  return Buffer.from([0xff, 0xd8, ...app0, ...sof0, ...comps, 0xff, 0xd9]);
}
