/**
 * memkit/isolate: run a function in a fresh child process or worker and get its result back, so
 * its leaks, crashes and out-of-memory kills cannot touch the caller.
 *
 * @module
 */
export {
  type Execution,
  IsolateAbortedError,
  IsolateCrashedError,
  IsolateExitedError,
  IsolateInvalidFunctionError,
  IsolateLoadError,
  IsolateOutOfMemoryError,
  IsolateSerializationError,
  IsolateStartError,
  IsolateTimeoutError,
  type StartPhase,
} from "./errors.js";
export { executionOf } from "./execution.js";
export { IsolateForkUnavailableError } from "./fork/unavailable-error.js";
export { type IsolateOptions, isolate, isolateWithStats, shutdownIsolate } from "./isolate.js";
export {
  type CallOptions,
  type CallStats,
  type IsolateMode,
  Isolator,
  type IsolatorOptions,
  type ModuleTask,
  type ReusePolicy,
} from "./isolator.js";
export { type LeakProbe, type LeakProbeOptions, probeLeak } from "./probe-leak.js";
