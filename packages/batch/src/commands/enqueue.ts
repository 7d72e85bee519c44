import { relative } from 'node:path';
import { enqueueRun } from '../backend/redis/run.js';
import { EXIT } from '../exit-codes.js';
import { mergeLimits } from '../run/limits.js';
import { backendOf, refuseTakes } from './_backend.js';
import { resolveProvider } from './_provider.js';
import { type RunFlags, resolveOutDir } from './_run-flags.js';
import { loadValidPlan } from './_run-outcome.js';

/**
 * `flf2v enqueue <manifest> --backend redis://… --out DIR`: validate the whole manifest (invalid: exit 2, nothing
 * enqueued), record the run in Redis, queue its tasks for `flf2v worker`, write `DIR/backend.json`, print the run
 * id on stdout. The same manifest twice into the same DIR adds nothing twice.
 */
export async function enqueueCommand(manifest: string, raw: Record<string, unknown>): Promise<number> {
  const flags = raw as RunFlags;
  const address = backendOf(flags);
  const plan = await loadValidPlan(manifest, flags);
  if (typeof plan === 'number') return plan;
  refuseTakes(plan);
  const provider = await resolveProvider({}, process.env, { noSimulatorFlag: true });
  const outDir = resolveOutDir(plan, flags.out);
  const result = await enqueueRun({
    address,
    apiKey: provider.apiKey,
    plan,
    manifestArg: manifest,
    outDir,
    limits: mergeLimits(plan.job.limits, flags),
    taskTimeoutMs: flags.taskTimeout,
    resubmitUnknown: flags.resubmitUnknown,
    retryFailed: flags.retryFailed,
  });
  process.stdout.write(`${result.file.runId}\n`);
  if (!flags.quiet) {
    process.stderr.write(
      `flf2v: run ${result.file.runId} on ${address.display}: ${result.tasks} tasks (${result.added} new), ${result.queued} queued for the workers of key ${result.file.fingerprint}; ` +
        `status: flf2v status ${relative(process.cwd(), outDir) || '.'}\n`,
    );
  }
  return EXIT.OK;
}
