import { EXIT } from '../exit-codes.js';
import { summaryFromDir } from './_state-summary.js';

export async function statusCommand(dir: string, opts: Record<string, unknown>): Promise<number> {
  const { summary, runningPid, where } = await summaryFromDir(dir);
  const t = summary.totals;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ schemaVersion: 1, dir: summary.run.outDir, name: summary.run.name, state: summary.run.state, stoppedBy: summary.run.stoppedBy, runningPid, totals: t, requests: summary.run.requests, rateLimited: summary.run.rateLimited }, null, 2)}\n`,
    );
    return EXIT.OK;
  }
  const stages = new Map<string, number>();
  for (const task of summary.tasks)
    if (task.status === 'pending')
      stages.set(task.stage ?? 'pending', (stages.get(task.stage ?? 'pending') ?? 0) + 1);
  const lines = [
    `${summary.run.name} — ${summary.run.outDir}`,
    ...(where ? [`  backend:   ${where}`] : []),
    `  state:     ${summary.run.state}${runningPid ? ` (pid ${runningPid})` : ''}`,
    ...(summary.run.stoppedBy && !runningPid
      ? [`  stopped:   ${summary.run.stoppedBy.message} [${summary.run.stoppedBy.code}]`]
      : []),
    `  tasks:     ${t.tasks}`,
    `  succeeded: ${t.succeeded}`,
    `  failed:    ${t.failed}`,
    `  unknown:   ${t.unknown}`,
    `  pending:   ${t.pending}${stages.size ? ` (${[...stages].map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.OK;
}
