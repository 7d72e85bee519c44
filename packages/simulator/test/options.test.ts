import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SIMULATOR_OPTIONS,
  DEMO_PRESET,
  loadSimulatorConfig,
  resolveSimulatorOptions,
  SimulatorConfigError,
  startSimulator,
} from '../src/index.js';
import { start } from './_helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flf2v-sim-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function yamlFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('options', () => {
  it('resolves to the documented defaults', () => {
    const o = resolveSimulatorOptions(undefined);
    expect(o.timings).toEqual(DEFAULT_SIMULATOR_OPTIONS.timings);
    expect(o.limits.submit).toEqual({ max: 60, windowMs: 60_000 });
    expect(o.limits.maxRunningPerKey).toBe(5);
    expect(o.responses.statusShape).toBe('array');
    expect(o.faults).toEqual([]);
    expect(Object.isFrozen(DEFAULT_SIMULATOR_OPTIONS.limits)).toBe(true);
  });

  it('merges groups field by field', () => {
    const o = resolveSimulatorOptions({
      limits: { maxRunningPerKey: null },
      timings: { pendingMs: '2s' as never },
    });
    expect(o.limits.maxRunningPerKey).toBeNull();
    expect(o.limits.submit).toEqual(DEFAULT_SIMULATOR_OPTIONS.limits.submit);
    expect(o.timings.pendingMs).toBe(2000);
    expect(o.timings.urlTtlMs).toBe(DEFAULT_SIMULATOR_OPTIONS.timings.urlTtlMs);
  });

  it('reports every bad option at once, with key, expected and found', () => {
    let error: unknown;
    try {
      resolveSimulatorOptions({
        port: 70000,
        failureRate: 2,
        limits: { submit: { max: 0, windowMs: 1000 }, frameAspectRange: [4, 1] },
        faults: [{ kind: 'explode' as never }, { kind: 'http-5xx', status: 501 as never }],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimulatorConfigError);
    const e = error as SimulatorConfigError;
    expect(e.code).toBe('E_SIM_CONFIG');
    expect(e.problems.map((p) => p.key)).toEqual([
      'port',
      'limits.submit.max',
      'limits.frameAspectRange',
      'failureRate',
      'faults[0].kind',
      'faults[1].status',
    ]);
    expect(e.message).toContain('port: expected a whole number from 0 to 65535, found 70000');
    expect(e.message).toContain('faults[0].kind: expected one of "http-5xx"');
  });

  it('never echoes a malformed key', () => {
    expect(() => resolveSimulatorOptions({ key: 12345 as never })).toThrow(
      /key: expected a non-empty string, found a value of type number/,
    );
  });

  it('the demo preset is valid and fault-free', () => {
    const o = resolveSimulatorOptions(DEMO_PRESET);
    expect(o.faults).toEqual([]);
    expect(o.timings.runningMs).toEqual({ '720p': 2000, '1080p': 3000 });
  });
});

describe('loadSimulatorConfig', () => {
  it('reads a YAML file with durations as text and patterns as strings', async () => {
    const file = await yamlFile(
      'good.yaml',
      `port: 0
seed: 7
timings:
  pendingMs: 250ms
  runningMs: { "720p": 2s, "1080p/8": 5s, "*": 1s }
  urlTtlMs: 10m
limits:
  submit: { max: 10, windowMs: 1m }
  upload: null
  overCapacity: reject
responses: { statusShape: object, retryAfterFormat: http-date }
moderationPattern: "forbidden|banned"
failPattern: null
faults:
  - { kind: http-5xx, endpoints: [submit], probability: 0.1, status: 502 }
  - { kind: slow, delayMs: 1s }
`,
    );
    const o = await loadSimulatorConfig(file);
    expect(o.timings).toEqual({
      pendingMs: 250,
      runningMs: { '720p': 2000, '1080p/8': 5000, '*': 1000 },
      urlTtlMs: 600_000,
    });
    expect(o.limits).toEqual({ submit: { max: 10, windowMs: 60_000 }, upload: null, overCapacity: 'reject' });
    expect(o.moderationPattern).toBeInstanceOf(RegExp);
    expect((o.moderationPattern as RegExp).test('A BANNED word')).toBe(true);
    expect(o.failPattern).toBeNull();
    expect(o.faults).toEqual([
      { kind: 'http-5xx', endpoints: ['submit'], probability: 0.1, status: 502 },
      { kind: 'slow', delayMs: 1000 },
    ]);
    const sim = await startSimulator(o);
    await sim.close();
  });

  it('names the file, the key, what was expected and what was found', async () => {
    const file = await yamlFile(
      'bad.yaml',
      'limits:\n  submit: { max: ten, windowMs: 5s }\n  bogus: 1\nclock: 3\n',
    );
    const error = await loadSimulatorConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SimulatorConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`${file}: limits.submit.max: expected a whole number >= 1, found "ten"`);
    expect(message).toContain(`${file}: limits.bogus: expected one of submit`);
    // A clock can only be given from code.
    expect(message).toContain(`${file}: clock: expected one of`);
  });

  it('reports YAML syntax errors and unreadable files', async () => {
    const file = await yamlFile('broken.yaml', 'limits: [unclosed\n');
    await expect(loadSimulatorConfig(file)).rejects.toThrow(/expected valid YAML/);
    await expect(loadSimulatorConfig(join(dir, 'missing.yaml'))).rejects.toThrow(
      /missing\.yaml.*found ENOENT/,
    );
  });

  it('an empty file means all defaults', async () => {
    expect(await loadSimulatorConfig(await yamlFile('empty.yaml', ''))).toEqual({});
  });
});

describe('update', () => {
  it('refuses to change port, host or seed, and checks values', async () => {
    const sim = await start();
    expect(() => sim.update({ port: 1234 })).toThrow(/port: expected no change while running/);
    expect(() => sim.update({ limits: { promptMaxChars: -1 } })).toThrow(SimulatorConfigError);
  });
});
