export { BatchError, type BatchErrorCode, usageError } from './errors.js';
export { EXIT, type ExitCode, exitCodeFor } from './exit-codes.js';
export {
  formatPlanSummary,
  formatProblem,
  formatProblems,
  type PlanJson,
  planToJson,
} from './manifest/format.js';
export { expandOutTemplate } from './manifest/out.js';
export { loadPlan } from './manifest/plan.js';
export { PROBLEM_KINDS, type ProblemKind } from './manifest/problems.js';
export type {
  FrameRef,
  JobConfig,
  JobLimits,
  LoadOptions,
  Plan,
  PlannedTask,
  PlanSummary,
  Problem,
  Severity,
  SourceLocation,
  TaskParams,
} from './manifest/types.js';
export { TOOL_VERSION } from './version.js';
