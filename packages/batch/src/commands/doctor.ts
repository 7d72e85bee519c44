import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import {
  ApiError,
  type AttemptEvent,
  type Client,
  createClient,
  isFlf2vError,
  type Logger,
  redactText,
  redactUrl,
} from '@flf2v/core';
import pino from 'pino';
import pretty from 'pino-pretty';
import { EXIT } from '../exit-codes.js';
import { type ProviderConfig, resolveProvider } from './_provider.js';

/**
 * `flf2v doctor`: the first contact with the provider, without creating a paid task. It asks for the status
 * and result of a task id that cannot exist (which needs a working key and shows how the provider refuses),
 * uploads a tiny PNG (free; shows the upload answer), fetches that upload back, and prints each answer next to
 * what the client expects. Submit is deliberately not probed: the API has no dry run, and any request it
 * accepts costs money.
 *
 * Exit codes: 0 everything as expected (warnings allowed); 1 reachable and authenticated, but an answer's
 * shape is not what the client reads; 3 no key, bad base URL, unreachable, or the key was refused.
 */

type Verdict = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  verdict: Verdict;
  expected: string;
  saw: string;
  /** Set when a failure means the set-up itself (key, URL, network) is wrong. */
  setup?: boolean;
  durationMs: number;
}

export interface DoctorReport {
  ok: boolean;
  baseUrl: string;
  simulator: boolean;
  checks: DoctorCheck[];
  /** Requests sent, from the client's attempt events. None of them creates a task. */
  requests: number;
  exitCode: number;
}

/** A small valid PNG (8×8 grey), built here so doctor needs no file on disk. */
function probePng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const size = 8;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc(size * (size + 1), 0x80);
  for (let y = 0; y < size; y++) rows[y * (size + 1)] = 0; // filter byte
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A compact picture of a JSON value's shape: keys, types, short strings, URLs without their query. */
export function shapeOf(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') {
    const shown = /^https?:\/\//i.test(value)
      ? `${redactUrl(value)}${value.includes('?') ? '?…' : ''}`
      : value;
    return JSON.stringify(shown.length > 90 ? `${shown.slice(0, 87)}...` : shown);
  }
  if (typeof value !== 'object') return String(value);
  if (depth >= 3) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const more = value.length > 1 ? `, …${value.length - 1} more` : '';
    return `[${shapeOf(value[0], depth + 1)}${more}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const shown = entries.slice(0, 8).map(([k, v]) => `${k}: ${shapeOf(v, depth + 1)}`);
  if (entries.length > 8) shown.push('…');
  return `{ ${shown.join(', ')} }`;
}

function sawError(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const parts = [error.status === undefined ? 'no HTTP answer' : `HTTP ${error.status}`];
  if (error.providerCode !== undefined) parts.push(`code ${JSON.stringify(error.providerCode)}`);
  if (error.providerMessage) parts.push(JSON.stringify(error.providerMessage));
  if (error.code === 'E_BAD_RESPONSE' && error.body)
    parts.push(`body ${JSON.stringify(error.body.slice(0, 300))}`);
  parts.push(`→ ${error.code}`);
  if (error.status === undefined) parts.push(`(${error.message.replace(/^[^:]*: /, '')})`);
  return parts.join(' ');
}

const SETUP_CODES = new Set(['E_AUTH', 'E_NETWORK', 'E_TIMEOUT', 'E_CONFIG']);

async function timed(fn: () => Promise<Omit<DoctorCheck, 'durationMs'>>): Promise<DoctorCheck> {
  const started = performance.now();
  const check = await fn();
  return { ...check, durationMs: Math.round(performance.now() - started) };
}

/** The probe of an endpoint for an id that cannot exist: a refusal is the expected, healthy answer. */
async function probeUnknownTask(
  name: 'status' | 'result',
  call: () => Promise<{ raw: unknown }>,
  expected: string,
): Promise<DoctorCheck> {
  return timed(async () => {
    try {
      const res = await call();
      return {
        name,
        verdict: 'ok',
        expected,
        saw: `HTTP 200 ${shapeOf(res.raw)} (an answer for a made-up id)`,
      };
    } catch (error) {
      const code = isFlf2vError(error) ? error.code : 'E_INTERNAL';
      if (code === 'E_INVALID_REQUEST' && (error as ApiError).status === 404) {
        // A 404 is what a wrong path gets too: the status/result paths are inferred (API.md), not documented.
        const note = 'either the id is unknown or the path is wrong (API.md marks it inferred)';
        return { name, verdict: 'warn', expected, saw: `${sawError(error)}: ${note}` };
      }
      if (code === 'E_PROVIDER' || code === 'E_INVALID_REQUEST') {
        return {
          name,
          verdict: 'ok',
          expected,
          saw: `${sawError(error)} (the provider refuses the made-up id, as it should)`,
        };
      }
      if (SETUP_CODES.has(code))
        return { name, verdict: 'fail', setup: true, expected, saw: sawError(error) };
      return { name, verdict: code === 'E_RATE_LIMITED' ? 'warn' : 'fail', expected, saw: sawError(error) };
    }
  });
}

/** Run every check against an already configured client. Exposed for tests. */
export async function runDoctor(
  client: Client,
  baseUrl: string,
  simulator: boolean,
  requests: () => number,
): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const fakeId = `flf2v-doctor-${Date.now().toString(36)}`;

  checks.push(
    await probeUnknownTask(
      'status',
      () => client.status(fakeId),
      'HTTP 200 { code: 0, data: [{ status, progress }] } for a real task; a refusal (code != 0 or 4xx) for a made-up id',
    ),
  );
  const reachable = !checks[0]!.setup;

  let uploaded: string | undefined;
  const png = probePng();
  if (reachable) {
    checks.push(
      await timed(async () => {
        const expected = 'HTTP 200 { code: 0, data: { fullPath: "https://…" } }';
        try {
          const res = await client.upload({ file: png, filename: 'flf2v-doctor.png' });
          uploaded = res.url;
          return {
            name: 'upload',
            verdict: 'ok',
            expected,
            saw: `HTTP 200 ${shapeOf(res.raw)} → url ${shapeOf(res.url)}`,
          };
        } catch (error) {
          const code = isFlf2vError(error) ? error.code : '';
          return {
            name: 'upload',
            verdict: 'fail',
            setup: SETUP_CODES.has(code),
            expected,
            saw: sawError(error),
          };
        }
      }),
    );
    checks.push(
      await probeUnknownTask(
        'result',
        () => client.result(fakeId),
        'HTTP 200 { code: 0, data: { urls: [...] } } (or data[0].result.urls) for a finished task; a refusal for a made-up id',
      ),
    );
  }
  if (uploaded) {
    const url = uploaded;
    checks.push(
      await timed(async () => {
        const expected =
          'the uploaded frame can be fetched back (downloads stream, verify length, resume with Range)';
        const dir = await mkdtemp(join(tmpdir(), 'flf2v-doctor-'));
        try {
          const res = await client.download(url, join(dir, 'probe.png'));
          const same = res.bytes === png.length ? 'same size as sent' : `sent ${png.length} bytes`;
          return {
            name: 'download',
            verdict: 'ok',
            expected,
            saw: `${res.bytes} bytes (${same}), sha256 ${res.sha256.slice(0, 12)}…`,
          };
        } catch (error) {
          // Not every provider serves uploads back; the result videos are what matter, and they cannot be probed for free.
          return { name: 'download', verdict: 'warn', expected, saw: sawError(error) };
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }),
    );
  }
  checks.push({
    name: 'submit',
    verdict: 'ok',
    expected: 'HTTP 200 { code: 0, data: { taskId }, ts: "…+08:00[Asia/Shanghai]" }',
    saw: 'not probed: every accepted submit creates a paid task',
    durationMs: 0,
  });

  const setupFailed = checks.some((c) => c.verdict === 'fail' && c.setup);
  const shapeFailed = checks.some((c) => c.verdict === 'fail' && !c.setup);
  const exitCode = setupFailed ? EXIT.CONFIG : shapeFailed ? EXIT.TASKS_FAILED : EXIT.OK;
  return { ok: exitCode === EXIT.OK, baseUrl, simulator, checks, requests: requests(), exitCode };
}

function verboseLogger(secrets: string[]): Logger {
  return pino(
    { level: 'debug', hooks: { streamWrite: (line) => redactText(line, secrets) } },
    pretty({ destination: 2, colorize: process.stderr.isTTY, sync: true }),
  );
}

function printReport(report: DoctorReport): void {
  const mark: Record<Verdict, string> = { ok: '✓', warn: '!', fail: '✗' };
  const out: string[] = [`flf2v doctor: ${report.baseUrl}${report.simulator ? ' (embedded simulator)' : ''}`];
  for (const c of report.checks) {
    out.push(
      `  ${mark[c.verdict]} ${c.name.padEnd(8)} saw:      ${c.saw}${c.durationMs ? ` [${c.durationMs} ms]` : ''}`,
    );
    out.push(`    ${''.padEnd(8)} expected: ${c.expected}`);
  }
  const verdict =
    report.exitCode === EXIT.OK
      ? 'all answers look as the client expects'
      : report.exitCode === EXIT.CONFIG
        ? 'set-up problem: check BAICAI_API_KEY, BAICAI_BASE_URL and the network'
        : 'the provider answers, but not in the shape the client reads (see ✗ above)';
  out.push(`${report.requests} request${report.requests === 1 ? '' : 's'}, no task created: ${verdict}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

export async function doctorCommand(opts: Record<string, unknown>): Promise<number> {
  const json = opts.json === true;
  let provider: ProviderConfig;
  try {
    provider = await resolveProvider({ simulator: opts.simulator === true });
  } catch (error) {
    process.stderr.write(`flf2v doctor: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.CONFIG;
  }
  let requests = 0;
  let client: Client | undefined;
  try {
    client = createClient({
      apiKey: provider.apiKey,
      baseUrl: provider.baseUrl,
      // Few retries: doctor reports what it sees rather than waiting it out.
      retry: { query: { attempts: 2 }, upload: { attempts: 2 }, download: { attempts: 2 } },
      timeouts: { query: { headersMs: 15_000 }, upload: { headersMs: 30_000 } },
      logger: opts.verbose === true ? verboseLogger([provider.apiKey]) : undefined,
      onAttempt: (_event: AttemptEvent) => {
        requests++;
      },
    });
    const report = await runDoctor(
      client,
      redactUrl(provider.baseUrl).replace(/\/$/, ''),
      provider.simulator !== undefined,
      () => requests,
    );
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report);
    return report.exitCode;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`flf2v doctor: ${redactText(message, [provider.apiKey])}\n`);
    return EXIT.CONFIG;
  } finally {
    await client?.close();
    await provider.close();
  }
}
