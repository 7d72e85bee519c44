export { backendFor } from './backend/index.js';
export { BatchError, type BatchErrorCode, type ErrorCode, usageError } from './errors.js';
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
export { type LimiterOptions, RateLimiter } from './run/limiter.js';
export { type LiveStage, LiveView, type ProgressCounts } from './run/live-view.js';
export { Pipeline, type PipelineOptions, type RunOutcome } from './run/pipeline/driver.js';
export { TASK_POLICY, type Verdict, verdictOf } from './run/policy.js';
export { PollPlanner, type PollPlannerOptions } from './run/poll-planner.js';
export { runSession, type SessionOptions, type SessionResult } from './run/session.js';
export { buildSummary } from './run/summary.js';
export { discoverJobs, type JobDiscovery } from './schedule/jobs.js';
export { type FiringNotification, notificationFor } from './schedule/notification.js';
export { placementOf, runDirAt } from './schedule/out-dir.js';
export type {
  FiringState,
  FiringTotals,
  HistoryEntry,
  HistoryIndex,
  Placement,
  ScheduledJob,
} from './schedule/types.js';
export { postWebhook, type WebhookOptions, type WebhookResult } from './schedule/webhook.js';
export { fileBackend, type StateBackend } from './state/backend.js';
export { acquireLock, type LockHolder, type RunLock, readLock } from './state/lock.js';
export type { JournalRecord } from './state/records.js';
export { RunState, type TaskPhase, type TaskState } from './state/run-state.js';
export type { StateStore } from './state/store.js';
export { TOOL_VERSION } from './version.js';
