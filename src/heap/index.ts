/**
 * memkit/heap: malloc/free inside an `ArrayBuffer`, `SharedArrayBuffer` or `WebAssembly.Memory`,
 * with TLSF, arena and pool strategies, typed cells freed by `using`, and use-after-free,
 * double-free, corruption and leak detection.
 *
 * @module
 */
export { ArenaHeap } from "./arena.js";
export type { HeapMemory, WasmMemory } from "./backing.js";
export { Cell, type CellType, type NumericArrayType, type ViewOf } from "./cell.js";
export { defaultHeap } from "./default-heap.js";
export type { CAllocatorFunctions, WasmAllocator } from "./engine.js";
export {
  DoubleFreeError,
  HeapCorruptionError,
  HeapPoisonedError,
  InvalidAlignmentError,
  InvalidPointerError,
  InvalidSizeError,
  LayoutVersionError,
  NotAHeapError,
  OutOfMemoryError,
  SharedMemoryUnavailableError,
  UnsupportedError,
  UseAfterFreeError,
} from "./errors.js";
export { Heap } from "./heap.js";
export type { HeapInstanceOptions, HeapOptions, LeakReport, StrategyName, ZeroMode } from "./options.js";
export { PoolHeap } from "./pool.js";
export { HeapSnapshot } from "./snapshot.js";
export type { HeapStats, LiveBlock, RecoveryReport, SiteReport } from "./stats.js";
export { TlsfHeap } from "./tlsf.js";
