import { relative } from 'node:path';
import { writeReports } from '@flf2v/reporter';
import { EXIT } from '../exit-codes.js';
import { summaryFromDir } from './_state-summary.js';

export async function reportCommand(dir: string, _opts: Record<string, unknown>): Promise<number> {
  const { summary } = await summaryFromDir(dir);
  const written = await writeReports(summary.run.outDir, summary);
  for (const path of Object.values(written)) process.stdout.write(`${relative(process.cwd(), path)}\n`);
  return EXIT.OK;
}
