import {
  Budget,
  FaultInjector,
  formatSweepReport,
  HeapAllocator,
  HeapVec,
  mallocOrThrow,
  sweepAllocations,
} from "../../fallible/index.js";
import { Heap } from "../../heap/index.js";
import type { DemoSection } from "./section.js";

/** `memkit demo fallible`: an injected OOM caught as a value, a budget, and a sweep report. */
export const fallibleSection: DemoSection = {
  name: "fallible",
  title: "allocation failure as a value, budgets, fault injection, sweeps",
  async run(io) {
    const heap = Heap.create({ initialBytes: 64 * 1024 });
    const faulty = new FaultInjector(new HeapAllocator(heap), { nth: 2 });
    const vec = new HeapVec(faulty, Float64Array);
    const results = [1, 2, 3, 4, 5, 6].map((x) => (vec.tryPush(x) ? "ok" : `failed (${vec.lastError?.kind})`));
    io.out(
      `HeapVec.tryPush under nth=2 injection (the 2nd allocation, growing from 4 to 8, fails): ${results.join(", ")}; vector still holds [${vec.toArray().join(", ")}]`,
    );
    vec.free();
    const budget = new Budget(new HeapAllocator(heap), {
      hardBytes: 4096,
      softBytes: 2048,
      onSoftLimit: (used) => io.out(`budget: soft limit passed at ${used} bytes`),
    });
    const ptrs: number[] = [];
    for (let p = budget.tryMalloc(512); p !== 0; p = budget.tryMalloc(512)) ptrs.push(p);
    io.out(
      `budget: ${ptrs.length} x 512 B, then refused -> ${budget.lastError?.kind}, ${budget.lastError?.available} bytes left`,
    );
    for (const p of ptrs) budget.free(p);
    const report = await sweepAllocations((alloc) => {
      const a = mallocOrThrow(alloc, 64);
      const b = alloc.tryMalloc(64);
      if (b === 0) throw alloc.lastError; // bug: a leaks when b fails
      alloc.free(b);
      alloc.free(a);
      return "done";
    });
    io.out("sweep of a function that leaks when its second allocation fails:");
    io.out(formatSweepReport(report).replace(/^/gm, "  "));
  },
};
