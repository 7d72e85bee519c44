/** One bad option: where it is, what was expected and what was found. */
export interface OptionProblem {
  /** Dotted path of the option, e.g. `limits.submit.max` or `faults[2].kind`. */
  key: string;
  expected: string;
  found: string;
}

/**
 * Invalid simulator options, from a YAML file or from code. `problems` lists every one of them; the message
 * shows them all, one per line, as `file: key: expected …, found …`.
 */
export class SimulatorConfigError extends Error {
  readonly code = 'E_SIM_CONFIG';
  readonly problems: readonly OptionProblem[];
  readonly file: string | undefined;

  constructor(problems: readonly OptionProblem[], file?: string, options: { cause?: unknown } = {}) {
    const where = file ? `${file}: ` : '';
    const lines = problems.map((p) => `${where}${p.key}: expected ${p.expected}, found ${p.found}`);
    super(
      problems.length === 1 ? (lines[0] ?? '') : `invalid simulator options:\n  ${lines.join('\n  ')}`,
      options,
    );
    this.name = 'SimulatorConfigError';
    this.problems = problems;
    this.file = file;
  }
}
