import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { computeTotals, type RunSummary, renderJson, reportSchema } from '../src/index.js';
import {
  bulkSummary,
  CHINESE_PROMPT,
  filmOf,
  realisticSummary,
  SCRIPT_PROMPT,
  withTakes,
} from './_summary.js';

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  // ajv-formats is not a dependency; RFC 3339 date-time is all the schema uses.
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
      !Number.isNaN(Date.parse(s)),
  });
  return ajv.compile(reportSchema);
}

describe('renderJson', () => {
  const validate = validator();

  it('writes a report.json that the shipped schema accepts', () => {
    const summary = realisticSummary();
    const parsed = JSON.parse(renderJson(summary));
    const ok = validate(parsed);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    const statuses = new Set(parsed.tasks.map((t: { status: string }) => t.status));
    expect([...statuses].sort()).toEqual(['failed', 'pending', 'succeeded', 'unknown']);
    expect(parsed.tasks.some((t: { videos: unknown[] }) => t.videos.length > 1)).toBe(true);
  });

  it('accepts the error that stopped a run, and nothing else in its place', () => {
    const summary = realisticSummary('interrupted');
    summary.run.stoppedBy = {
      code: 'E_LOCAL_IO',
      message: 'cannot write the part file (ENOSPC)',
      retryable: false,
    };
    expect(validate(JSON.parse(renderJson(summary)))).toBe(true);
    const bad = JSON.parse(renderJson(summary));
    bad.run.stoppedBy = { code: 'E_LOCAL_IO' };
    expect(validate(bad)).toBe(false);
  });

  it('accepts a film, after the totals, and refuses one missing its facts', () => {
    const summary = realisticSummary();
    const text = renderJson({ ...summary, film: filmOf(summary) });
    expect(validate(JSON.parse(text))).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(['schemaVersion', 'run', 'totals', 'film', 'tasks']);
    const bad = JSON.parse(text);
    delete bad.film.sha256;
    expect(validate(bad)).toBe(false);
  });

  it("accepts each task's take and whether it is chosen, and nothing else in their place", () => {
    const text = renderJson(withTakes(realisticSummary()));
    expect(validate(JSON.parse(text))).toBe(true);
    for (const [field, value] of [
      ['take', 0],
      ['take', 1.5],
      ['chosen', 'yes'],
    ] as const) {
      const bad = JSON.parse(text);
      bad.tasks[0][field] = value;
      expect(validate(bad), `${field}: ${value}`).toBe(false);
    }
  });

  it('is the plain model serialized, schemaVersion first', () => {
    const summary = realisticSummary('running');
    const text = renderJson(summary);
    expect(text.startsWith('{\n  "schemaVersion": 1,')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(text).toContain(CHINESE_PROMPT);
    expect(JSON.parse(text).tasks.map((t: { request: { prompt: string } }) => t.request.prompt)).toContain(
      SCRIPT_PROMPT,
    );
  });

  it("accepts the README's runnable example", async () => {
    // A string specifier: the example is plain JavaScript and has no type declarations.
    const example: string = '../examples/render.mjs';
    const { exampleSummary } = (await import(example)) as { exampleSummary: () => RunSummary };
    expect(validate(JSON.parse(renderJson(exampleSummary())))).toBe(true);
  });

  it('accepts 10,000 tasks', () => {
    expect(validate(JSON.parse(renderJson(bulkSummary(10_000))))).toBe(true);
  });

  it('rejects what the model does not allow', () => {
    const summary = realisticSummary();
    const bad = JSON.parse(renderJson(summary)) as RunSummary & { tasks: Record<string, unknown>[] };
    (bad.tasks[0] as Record<string, unknown>).status = 'done';
    bad.tasks[1]!.apiKey = 'sk-should-never-be-here';
    (bad.run as unknown as Record<string, unknown>).startedAt = 'yesterday';
    expect(validate(bad)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toEqual(expect.arrayContaining(['/tasks/0/status', '/tasks/1', '/run/startedAt']));
  });
});

describe('computeTotals', () => {
  it('counts tasks by outcome', () => {
    const totals = computeTotals(realisticSummary().tasks);
    expect(totals).toEqual({ tasks: 30, succeeded: 22, failed: 4, pending: 2, unknown: 2 });
    expect(computeTotals([])).toEqual({ tasks: 0, succeeded: 0, failed: 0, pending: 0, unknown: 0 });
  });
});
