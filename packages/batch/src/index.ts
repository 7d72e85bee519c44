export { BatchError, type BatchErrorCode, usageError } from './errors.js';
export { EXIT, type ExitCode, exitCodeFor } from './exit-codes.js';
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
