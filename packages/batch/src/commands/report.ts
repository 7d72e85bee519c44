import { EXIT } from '../exit-codes.js';

export async function reportCommand(_dir: string, _opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('flf2v report: not implemented yet (issue 7)\n');
  return EXIT.CONFIG;
}
