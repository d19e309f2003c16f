/**
 * memkit/fallible: allocation failure as a value, memory budgets, fault injection, failpoints,
 * exhaustive allocation-failure sweeps and fallible collections in heap memory. Built on
 * `memkit/heap`'s public API.
 *
 * @module
 */
export { type Allocator, type AllocResult, allocate, HeapAllocator, mallocOrThrow } from "./allocator.js";
export { type BenignRegion, benign, benignRegion, isBenign } from "./benign.js";
export { Budget, type BudgetOptions } from "./budget.js";
export {
  AllocError,
  type AllocFailure,
  FailpointError,
  FailpointUnsupportedError,
  InvalidFailpointError,
} from "./errors.js";
export {
  configureFailpoint,
  type FailpointHit,
  type FailpointScope,
  failpoint,
  failpointAsync,
  failpointScope,
  failpointSeed,
  listFailpoints,
  removeFailpoint,
  setFailpointSeed,
  withFailpoints,
} from "./failpoint.js";
export { type FailpointAction, type FailpointTask, parseFailpointSpec } from "./failpoint-spec.js";
export { type AllocationRecord, FaultInjector, type FaultOptions } from "./fault-injector.js";
export { parseFaultSpec } from "./fault-options.js";
export { HeapIntMap } from "./int-map.js";
export type { ArrayOf, ElementOf, NumericType } from "./numeric.js";
export {
  assertSweepClean,
  formatSweepReport,
  type Scenario,
  type SweepOptions,
  type SweepProblem,
  type SweepReport,
  type SweepRun,
  type SweepSite,
  sweepAllocations,
} from "./sweep.js";
export { HeapVec } from "./vec.js";
