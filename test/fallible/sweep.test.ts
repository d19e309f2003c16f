import { describe, expect, it } from "vitest";
import {
  type Allocator,
  assertSweepClean,
  formatSweepReport,
  mallocOrThrow,
  sweepAllocations,
} from "../../src/fallible/index.js";

// A correct scenario: builds a small linked structure, frees everything it allocated on failure.
function correct(alloc: Allocator): number {
  const taken: number[] = [];
  try {
    for (let i = 0; i < 5; i++) taken.push(mallocOrThrow(alloc, 32 + i * 8));
    return taken.length;
  } finally {
    for (const p of taken) alloc.free(p);
  }
}

// Bug 1: leaks the first block when the second allocation fails.
function leaksOnFailure(alloc: Allocator): number {
  const first = mallocOrThrow(alloc, 64);
  const second = mallocOrThrow(alloc, 64);
  alloc.free(second);
  alloc.free(first);
  return 2;
}

// Bug 2: swallows the failure of its second allocation and returns a wrong result.
function swallows(alloc: Allocator): number {
  const first = alloc.tryMalloc(16);
  const second = alloc.tryMalloc(16);
  let total = 0;
  if (first !== 0) {
    total += 1;
    alloc.free(first);
  }
  if (second !== 0) {
    total += 1;
    alloc.free(second);
  }
  return total;
}

// Bug 3: on failure of its third allocation it scribbles over a block it already freed,
// corrupting the heap's own structures.
function corrupts(alloc: Allocator): number {
  const a = mallocOrThrow(alloc, 48);
  const b = alloc.tryMalloc(48);
  if (b === 0) {
    alloc.free(a);
    throw alloc.lastError;
  }
  alloc.free(a);
  const c = alloc.tryMalloc(48);
  if (c === 0) {
    alloc.heap.u8.fill(0xff, a - 8, a + 16); // writes over a's free-block header
    alloc.free(b);
    throw alloc.lastError;
  }
  alloc.free(c);
  alloc.free(b);
  return 3;
}

describe("sweepAllocations", () => {
  it("a correct scenario: every site handled, in both modes", async () => {
    const report = await sweepAllocations(correct);
    expect(report.allocations).toBe(5);
    expect(report.runs).toHaveLength(10);
    expect(report.ok).toBe(true);
    expect(report.runs.every((r) => r.outcome === "alloc-error")).toBe(true);
    assertSweepClean(report);
    expect(formatSweepReport(report)).toContain("every site handled");
  });

  it("finds the leak and names the site", async () => {
    const report = await sweepAllocations(leaksOnFailure);
    expect(report.ok).toBe(false);
    const leaks = report.runs.filter((r) => r.outcome === "leak");
    expect(leaks.map((r) => r.k)).toEqual([2, 2]);
    expect(report.runs.filter((r) => r.k === 1).every((r) => r.outcome === "alloc-error")).toBe(true);
    expect(() => assertSweepClean(report)).toThrow(/leak/);
  });

  it("finds the swallowed error as a wrong result", async () => {
    const report = await sweepAllocations(swallows);
    expect(report.runs.every((r) => r.outcome === "wrong-result")).toBe(true);
    expect(report.sites.every((s) => !s.handled)).toBe(true);
  });

  it("finds the corruption through heap.check()", async () => {
    const report = await sweepAllocations(corrupts);
    const bad = report.runs.filter((r) => r.outcome === "corrupt-heap");
    expect(bad.map((r) => r.k)).toEqual([3, 3]);
    expect(report.sites.some((s) => !s.handled && s.problems.includes("corrupt-heap"))).toBe(true);
  });

  it("reports an exception that is not an AllocError as a bug", async () => {
    const report = await sweepAllocations((alloc) => {
      const p = alloc.tryMalloc(8);
      if (p === 0) throw new TypeError("cannot read properties of null");
      alloc.free(p);
      return 1;
    });
    expect(report.runs.every((r) => r.outcome === "unexpected-error" && r.detail.includes("TypeError"))).toBe(true);
  });

  it("the invariant check catches a broken structure", async () => {
    // Same result either way, but a failed allocation leaves the structure half-updated.
    const broken = new WeakSet<object>();
    const report = await sweepAllocations(
      (alloc) => {
        const p = alloc.tryMalloc(8);
        if (p === 0) broken.add(alloc);
        else alloc.free(p);
        return 1;
      },
      {
        check: (_result, alloc) => {
          if (broken.has(alloc)) throw new Error("index and data disagree");
        },
      },
    );
    expect(report.runs.map((r) => r.outcome)).toEqual(["invariant", "invariant"]);
  });
});
