import type { JobLimits } from '../manifest/types.js';

/** A run's limits: each given on the command line (`--submit-rpm`, …) wins over the job file's `limits:`. */
export function mergeLimits(job: JobLimits, given: JobLimits): JobLimits {
  return {
    submitRpm: given.submitRpm ?? job.submitRpm,
    queryRpm: given.queryRpm ?? job.queryRpm,
    maxInFlight: given.maxInFlight ?? job.maxInFlight,
  };
}
