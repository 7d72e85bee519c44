import { EXIT } from '../exit-codes.js';

export async function scheduleCommand(_paths: string[], _opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('flf2v schedule: not implemented yet (issue 8)\n');
  return EXIT.CONFIG;
}
