export { submissionBodyHash } from './_canonical-json.js';
export { loadSimulatorConfig } from './config.js';
export { type OptionProblem, SimulatorConfigError } from './errors.js';
export { DEFAULT_SIMULATOR_OPTIONS, DEMO_PRESET, resolveSimulatorOptions } from './options.js';
export { startSimulator } from './server.js';
export {
  type AcceptedSubmission,
  ENDPOINTS,
  type Endpoint,
  FAULT_KINDS,
  type FaultKind,
  type FaultRule,
  type Ledger,
  type LimitOptions,
  type RequestLogEntry,
  type ResolvedSimulatorOptions,
  type ResponseOptions,
  type RetryAfterFormat,
  type RunningMsTable,
  type Simulator,
  type SimulatorOptions,
  type TaskTimingInput,
  type TimingOptions,
  type UploadRecord,
  type VideoRecord,
  type WindowLimit,
} from './types.js';
