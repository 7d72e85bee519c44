import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { checkOptions } from './_check-options.js';
import { SimulatorConfigError } from './errors.js';
import type { SimulatorOptions } from './types.js';

/**
 * Read simulator options from a YAML file (the same keys as `SimulatorOptions`; durations may be written
 * `"5s"`, patterns as strings). Every problem is reported at once, each as `file: key: expected …, found …`.
 * Throws SimulatorConfigError.
 */
export async function loadSimulatorConfig(file: string): Promise<SimulatorOptions> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SimulatorConfigError(
      [{ key: '(file)', expected: 'a readable YAML file', found: reason }],
      file,
      {
        cause: error,
      },
    );
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      key: e.linePos ? `line ${e.linePos[0].line}` : '(yaml)',
      expected: 'valid YAML',
      found: e.message.split('\n')[0] ?? e.code,
    }));
    throw new SimulatorConfigError(problems, file);
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return {};
  const { options, problems } = checkOptions(data, 'yaml');
  if (problems.length > 0) throw new SimulatorConfigError(problems, file);
  return options;
}
