import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulator, spawnCli, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { ambiguousSubmitAnswers, chaosFaults, requestsBeforeRetryAfter } from './_faults.js';
import {
  checkSubmissions,
  checkVideos,
  providerRequests,
  readReport,
  runEnv,
  size,
  statusCounts,
  testSeed,
} from './_support.js';

/**
 * Chaos: every endpoint misbehaves on a fifth of its requests — 5xx (JSON and gateway HTML), 429 with
 * Retry-After in seconds, as an HTTP-date and as garbage, resets before and after the request is processed,
 * truncated bodies, non-JSON pages, missing fields. The run must:
 * - not crash: exit 0, or 1 when some submits ended unknown — and then only unknown, each one backed by a
 *   submit whose answer was ambiguous in the ledger (a reset, a 500/502/504, a truncated or unreadable 200);
 * - fail no task because of a transient fault;
 * - never send a request before a Retry-After it was given (from the ledger's request log; see below);
 * - pay once: the ledger's accepted submissions per task are within what the report discloses, and every video
 *   is byte-identical to what was served.
 */

const FILE = 'test/reliability/chaos.test.ts';
const TASKS = size(40, 400);
/** Total chance that a request meets a fault. */
const P = 0.2;
describe('chaos: faults on a fifth of all requests, every endpoint', () => {
  it(`finishes ${TASKS} tasks: no crash, no transient failure, no request before its Retry-After`, async () => {
    const seed = testSeed('chaos', FILE);
    const sim = await simulator({
      seed,
      timings: { pendingMs: 100, runningMs: 600, jitterRatio: 0.3 },
      faults: [
        // One 429 of each parsable form for certain, so the Retry-After check never runs on nothing.
        { kind: 'rate-limit', endpoints: 'submit', retryAfter: 'seconds', retryAfterMs: 1_500, count: 1 },
        { kind: 'rate-limit', endpoints: 'status', retryAfter: 'http-date', retryAfterMs: 1_500, count: 1 },
        ...chaosFaults(P),
      ],
    });
    const dir = await tempDir('flf2v-rel-chaos-');
    const manifest = await writeCsvJob(dir, TASKS, { name: 'chaos' });
    const out = join(dir, 'out');
    const res = await spawnCli(['run', manifest, '--out', out, '--quiet'], { env: runEnv(sim, dir) }).result;
    const ledger = sim.ledger();
    const report = await readReport(out);
    const counts = statusCounts(report);
    const rateLimited = providerRequests(ledger).filter((r) => r.status === 429);
    console.log(
      `[chaos] seed ${seed}: exit ${res.code};`,
      counts,
      `; ${providerRequests(ledger).length} requests, faults:`,
      ledger.faults.byKind,
      `; 429s: ${rateLimited.length} (${rateLimited.filter((r) => r.retryAfterMs !== undefined).length} with a parsable Retry-After)`,
    );

    // No crash: 0, or 1 with nothing but unknown tasks.
    expect([0, 1], `seed ${seed}\n${res.stderr}`).toContain(res.code);
    expect(res.stderr).not.toMatch(/internal error|E_INTERNAL/);
    expect(report.tasks).toHaveLength(TASKS);
    expect(
      counts.failed ?? 0,
      `seed ${seed}: ${JSON.stringify(report.tasks.filter((t) => t.status === 'failed').map((t) => t.error))}`,
    ).toBe(0);
    expect(counts.pending ?? 0, `seed ${seed}`).toBe(0);
    expect((counts.succeeded ?? 0) + (counts.unknown ?? 0)).toBe(TASKS);
    if (res.code === 1) expect(counts.unknown, `seed ${seed}`).toBeGreaterThan(0);
    // Each unknown task is backed by an ambiguous submit answer, and was sent once.
    expect(counts.unknown ?? 0, `seed ${seed}`).toBeLessThanOrEqual(ambiguousSubmitAnswers(ledger));
    for (const t of report.tasks.filter((t) => t.status === 'unknown')) expect(t.submissions).toBe(1);

    // Paid once, and the bytes are the provider's.
    checkSubmissions(ledger, report);
    expect(await checkVideos(ledger, out, report)).toBe(counts.succeeded ?? 0);

    // Retry-After honoured, per call class.
    expect(
      rateLimited.some((r) => r.retryAfterMs !== undefined),
      `seed ${seed}: no 429 to check`,
    ).toBe(true);
    const onWire = requestsBeforeRetryAfter(ledger, 0);
    console.log(
      `[chaos] requests of a class within its Retry-After, incl. those already in flight: ${onWire.length}; ms after the 429:`,
      onWire.map((x) => x.afterMs),
    );
    const early = requestsBeforeRetryAfter(ledger);
    expect(early, `seed ${seed}: requests sent before their Retry-After`).toEqual([]);
  });

  // Regression: a video download answered 200 with an HTML page (a gateway's "200 OK") used to be saved as the
  // video and the task reported succeeded. core's download now refuses text bodies as a transient E_DOWNLOAD.
  it('a download answered with an HTML page is not taken for the video', async () => {
    const sim = await simulator({ faults: [{ kind: 'non-json', endpoints: 'download', count: 1 }] });
    const dir = await tempDir('flf2v-rel-chaos-');
    const manifest = await writeCsvJob(dir, 2, { name: 'chaos' });
    const out = join(dir, 'out');
    const res = await spawnCli(['run', manifest, '--out', out, '--quiet'], { env: runEnv(sim, dir) }).result;
    expect(sim.ledger().faults.byKind['non-json']).toBe(1);
    const report = await readReport(out);
    expect(res.code).toBe(0);
    expect(await checkVideos(sim.ledger(), out, report)).toBe(2);
  });
});
