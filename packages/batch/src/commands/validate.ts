import { EXIT } from '../exit-codes.js';
import { formatPlanSummary, formatProblems, planToJson } from '../manifest/format.js';
import { loadPlan } from '../manifest/plan.js';

/**
 * `flf2v validate <manifest> [--json] [--strict] [--encoding] [--no-prepare]`: every problem with its location,
 * then the plan summary. Sends nothing; writes nothing but prepared frames into the cache. Exit 0 when valid (warnings allowed), 2 when not.
 */
export async function validateCommand(target: string, opts: Record<string, unknown>): Promise<number> {
  const plan = await loadPlan(target, {
    strict: opts.strict === true,
    ...(typeof opts.encoding === 'string' ? { encoding: opts.encoding } : {}),
    ...(opts.prepare === false ? { prepare: { enabled: false } } : {}),
  });
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify(planToJson(plan), null, 2)}\n`);
  } else {
    const problems = formatProblems(plan.problems);
    process.stdout.write(
      problems === '' ? formatPlanSummary(plan) : `${problems}\n${formatPlanSummary(plan)}`,
    );
  }
  return plan.summary.errors > 0 ? EXIT.USAGE : EXIT.OK;
}
