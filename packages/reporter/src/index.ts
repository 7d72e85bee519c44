export type {
  RunMeta,
  RunSummary,
  TaskError,
  TaskOutcome,
  TaskRequest,
  TaskSummary,
  TaskTimings,
  Totals,
  VideoFile,
} from './types.js';
