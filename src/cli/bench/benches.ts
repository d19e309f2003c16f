import { heapQuickBench } from "./heap.js";
import { isolateQuickBench } from "./isolate.js";
import { onceQuickBench } from "./once.js";
import type { QuickBench } from "./quick-bench.js";

/** Every module's quick benchmark. A module adds one import and one entry. */
export const quickBenches: readonly QuickBench[] = [heapQuickBench, isolateQuickBench, onceQuickBench];
