/**
 * memkit/once: one-time initialization with explicit failure policies (`OnceCell`, `Lazy`,
 * `Once`), async cells that share one in-flight initialization, a once-cell shared by
 * `worker_threads`, and intentional, visible leaks.
 *
 * @module
 */

export { SharedMemoryUnavailableError } from "../internal/errors.js";
export { AsyncLazy, AsyncOnceCell, type AsyncOnceOptions, type WaitOptions } from "./async-once-cell.js";
export {
  CapacityExceededError,
  NotSerializableError,
  OnceUnsupportedError,
  PoisonedError,
  ReentrantInitError,
} from "./errors.js";
export { Lazy, type LazyOptions } from "./lazy.js";
export { type Leaked, leak, leaked } from "./leak.js";
export { Once, type OnceState } from "./once.js";
export { OnceCell } from "./once-cell.js";
export type { FailurePolicy, InitResult, Peek, SetResult } from "./result.js";
export { SharedOnceCell, type SharedOnceCellOptions } from "./shared-once-cell.js";
