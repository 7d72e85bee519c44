import { join, resolve } from 'node:path';
import { expandOutTemplate } from '../manifest/out.js';
import type { Plan } from '../manifest/types.js';

export interface RunFlags {
  out?: string;
  submitRpm?: number;
  queryRpm?: number;
  maxInFlight?: number;
  resubmitUnknown?: boolean;
  retryFailed?: boolean;
  /** `--retake ID…`: generate these shots again, each as a new take. */
  retake?: string[];
  maxVideos?: number;
  taskTimeout?: number;
  dryRun?: boolean;
  strict?: boolean;
  encoding?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  simulator?: boolean;
  simulatorConfig?: string;
  salvageState?: boolean;
  /** `redis://…`: the run's state in Redis, worked on by this process and any `flf2v worker`. */
  backend?: string;
  /** `--no-prepare` sets it false. */
  prepare?: boolean;
}

/** `--out`, else the job's `out:` (with {date}/{time}), else `runs/<job name>`. */
export function resolveOutDir(plan: Plan, out: string | undefined, at = new Date()): string {
  if (out) return resolve(out);
  if (plan.job.out) return resolve(expandOutTemplate(plan.job.out, at, plan.job.timezone));
  return resolve(join('runs', plan.job.name));
}
