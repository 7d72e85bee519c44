import { describe, expect, it } from 'vitest';
import { renderJunit } from '../src/index.js';
import { CHINESE_PROMPT, HOSTILE_MESSAGE, realisticSummary } from './_summary.js';
import { parseXml, type XmlElement } from './_xml.js';

const child = (el: XmlElement, name: string) => el.children.find((c) => c.name === name);

describe('renderJunit', () => {
  const summary = realisticSummary();
  const root = parseXml(renderJunit(summary));
  const suite = child(root, 'testsuite')!;
  const cases = suite.children.filter((c) => c.name === 'testcase');

  it('is one well-formed testsuite with a testcase per task', () => {
    expect(root.name).toBe('testsuites');
    expect(suite.attrs).toMatchObject({
      name: 'spring-campaign',
      tests: '30',
      failures: '4',
      errors: '0',
      skipped: '4',
    });
    expect(cases.map((c) => c.attrs.name)).toEqual(summary.tasks.map((t) => t.id));
    expect(new Set(cases.map((c) => c.attrs.classname))).toEqual(new Set(['spring-campaign']));
    expect(Number(suite.attrs.time)).toBeGreaterThan(0);
  });

  it('reports failures with code and message, and skips pending and unknown tasks', () => {
    for (const [i, task] of summary.tasks.entries()) {
      const tc = cases[i]!;
      const failure = child(tc, 'failure');
      const skipped = child(tc, 'skipped');
      if (task.status === 'failed') {
        expect(failure?.attrs).toEqual({ type: task.error!.code, message: task.error!.message });
        expect(failure?.text).toContain(`${task.error!.code}: ${task.error!.message}`);
      } else expect(failure).toBeUndefined();
      expect(skipped !== undefined).toBe(task.status === 'pending' || task.status === 'unknown');
    }
  });

  it('round-trips hostile text through XML escaping', () => {
    const hostile = cases.find((c) => child(c, 'failure')?.attrs.type === 'E_BAD_RESPONSE')!;
    // The attribute keeps the message's characters exactly (U+2028 is legal XML).
    expect(child(hostile, 'failure')!.attrs.message).toBe(HOSTILE_MESSAGE);
  });

  it('takes times from the task timings', () => {
    const task = summary.tasks[0]!;
    const expected = (Date.parse(task.timings.downloadedAt!) - Date.parse(task.timings.submittedAt!)) / 1000;
    expect(Number(cases[0]!.attrs.time)).toBeCloseTo(expected, 3);
    const planned = cases[summary.tasks.findIndex((t) => t.stage === 'planned')]!;
    expect(planned.attrs.time).toBe('0.000');
  });

  it('replaces characters XML cannot carry instead of writing an unreadable file', () => {
    const s = realisticSummary();
    s.run.name = 'job <&> "q"';
    s.tasks[7]!.id = 'bad\u0001id\uD800';
    s.tasks[7]!.error!.message = `line one\nline two\ttab\u0007 ${CHINESE_PROMPT}`;
    const xml = renderJunit(s);
    const tc = parseXml(xml).children[0]!.children[7]!;
    expect(tc.attrs.classname).toBe('job <&> "q"');
    expect(tc.attrs.name).toBe('bad\uFFFDid\uFFFD');
    expect(child(tc, 'failure')!.attrs.message).toBe(`line one\nline two\ttab\uFFFD ${CHINESE_PROMPT}`);
  });

  it('the reader used here rejects what it should', () => {
    expect(() => parseXml('<a>1 < 2</a>')).toThrow();
    expect(() => parseXml('<a b="x & y"/>')).toThrow();
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a>\u0001</a>')).toThrow();
    expect(() => parseXml('<a/><b/>')).toThrow();
  });
});
