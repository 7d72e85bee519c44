import { EXIT } from '../exit-codes.js';

export async function simulatorCommand(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('flf2v simulator: not implemented yet (issue 3)\n');
  return EXIT.CONFIG;
}
