import type { QuickBench } from "./quick-bench.js";

/** Every module's quick benchmark. A module adds one import and one entry. */
export const quickBenches: readonly QuickBench[] = [];
