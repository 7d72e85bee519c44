import { EXIT } from '../exit-codes.js';

export async function doctorCommand(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('flf2v doctor: not implemented yet (issue 4)\n');
  return EXIT.CONFIG;
}
