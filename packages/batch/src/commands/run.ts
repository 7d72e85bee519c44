import { EXIT } from '../exit-codes.js';

export async function runCommand(_target: string, _opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('flf2v run: not implemented yet (issue 6)\n');
  return EXIT.CONFIG;
}
