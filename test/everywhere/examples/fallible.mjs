// The README example of `memkit/fallible`, runnable everywhere.
import { assertSweepClean, Budget, HeapAllocator, HeapIntMap, HeapVec, sweepAllocations } from "memkit/fallible";
import { Heap } from "memkit/heap";
import { check } from "./check.mjs";

/** A scenario that handles allocation failure: frees what it built and reports the AllocError. */
function buildIndex(alloc, words) {
  const index = new HeapIntMap(alloc, Uint32Array);
  for (const word of words) {
    if (!index.tryInsert(word.length, (index.get(word.length) ?? 0) + 1)) {
      const error = index.lastError;
      index.free();
      throw error;
    }
  }
  return index;
}

export default async function fallibleExample() {
  const heap = new HeapAllocator(Heap.create());
  const warnings = [];
  const request = new Budget(heap, {
    hardBytes: 1 << 20,
    softBytes: 768 << 10,
    onSoftLimit: (used) => warnings.push(used),
  });
  const vec = new HeapVec(request, Float64Array);
  let pushed = 0;
  while (vec.tryPush(42)) pushed++;
  check(vec.lastError?.kind === "budget", `the budget stops the vector, got ${vec.lastError?.kind}`);
  check(vec.length === pushed && warnings.length === 1, "the vector is unchanged and the soft limit warned once");
  vec.free();

  const words = ["heap", "once", "fallible", "isolate", "ffi", "bundle"];
  const report = await sweepAllocations((alloc) => buildIndex(alloc, words), {
    cleanup: (index) => index.free(),
    equals: (a, b) => a.size === b.size && a.get(4) === b.get(4),
  });
  assertSweepClean(report);
  return { kind: vec.lastError.kind, pushed, runs: report.runs.length };
}
