import { EXIT } from '../exit-codes.js';

export async function validateCommand(_target: string, _opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('flf2v validate: not implemented yet (issue 5)\n');
  return EXIT.CONFIG;
}
