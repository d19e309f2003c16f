import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type Allocator,
  assertSweepClean,
  benign,
  configureFailpoint,
  failpoint,
  formatSweepReport,
  mallocOrThrow,
  removeFailpoint,
  sweepAllocations,
} from "memkit/fallible";
import { afterEach, describe, expect, it } from "vitest";

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

// A cache that just does not grow when memory is short (SQLite's lookaside, a memo table): it
// handles its own allocation failure, so the result is the same either way.
function cachedSum(alloc: Allocator, mark: boolean): number {
  const grow = () => alloc.tryMalloc(64); // 0: the cache stays as it is
  const slot = mark ? benign(grow) : grow();
  try {
    alloc.free(mallocOrThrow(alloc, 16));
    return 42;
  } finally {
    if (slot !== 0) alloc.free(slot);
  }
}

describe("sweepAllocations: benign regions, strictness, seeds (issue 12)", () => {
  afterEach(() => removeFailpoint("sweep.coin"));

  it("an unmarked cache that swallows its failure is reported as swallowed", async () => {
    const report = await sweepAllocations((alloc) => cachedSum(alloc, false), { modes: ["transient"] });
    expect(report.runs.map((r) => r.outcome)).toEqual(["swallowed", "alloc-error"]);
    expect(report.ok).toBe(false);
  });

  it("the same cache inside benign() is handled: the sweep expects success there", async () => {
    const report = await sweepAllocations((alloc) => cachedSum(alloc, true));
    expect(report.runs.map((r) => r.outcome)).toEqual(["benign", "alloc-error", "alloc-error", "alloc-error"]);
    expect(report.ok).toBe(true);
    assertSweepClean(report);
  });

  it("a benign failure that makes the run fail is benign-escaped", async () => {
    const report = await sweepAllocations(
      (alloc) => {
        const p = benign(() => alloc.tryMalloc(8));
        if (p === 0) throw alloc.lastError;
        alloc.free(p);
        return 1;
      },
      { modes: ["transient"] },
    );
    expect(report.runs.map((r) => r.outcome)).toEqual(["benign-escaped"]);
  });

  it("strict: false accepts success after a failure, as before", async () => {
    const report = await sweepAllocations((alloc) => cachedSum(alloc, false), { modes: ["transient"], strict: false });
    expect(report.runs.map((r) => r.outcome)).toEqual(["same-result", "alloc-error"]);
  });

  it("failpoint chances are re-seeded each run from the sweep's seed, which the report carries", async () => {
    configureFailpoint("sweep.coin", "50%return(1)");
    const scenario = (alloc: Allocator) => {
      const p = mallocOrThrow(alloc, 8);
      const coins = Array.from({ length: 16 }, () => (failpoint("sweep.coin") ? 1 : 0)).join("");
      alloc.free(p);
      return coins;
    };
    const a = await sweepAllocations(scenario, { seed: 77 });
    const b = await sweepAllocations(scenario, { seed: 77 });
    expect(a.seed).toBe(77);
    expect(a.ok).toBe(true); // every run saw the reference run's coins: no wrong-result
    expect(b.runs).toEqual(a.runs);
    expect(formatSweepReport(a)).toContain("seed 77");
    const fresh = await sweepAllocations(scenario);
    expect(Number.isInteger(fresh.seed)).toBe(true);
  });

  it.each([
    [{ modes: ["sometimes"] }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ modes: [] }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ seed: 1.5 }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ maxAllocations: 0 }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ check: "yes" }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ strict: 1 }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ maxAlocations: 5 }, "ERR_MEMKIT_INVALID_ARGUMENT"],
  ])("option %j is refused (%s)", async (options, code) => {
    await expect(sweepAllocations(correct, options as never)).rejects.toMatchObject({ code });
  });
});

describe("sweep site attribution", () => {
  it("user code under a directory named heap/ keeps its own file and line", async () => {
    const root = mkdtempSync(join(tmpdir(), "memkit-sites-"));
    try {
      mkdirSync(join(root, "src", "heap"), { recursive: true });
      writeFileSync(join(root, "package.json"), '{ "type": "module" }');
      const file = join(root, "src", "heap", "index-builder.js"); // .js, like memkit's own files
      writeFileSync(
        file,
        [
          "export function build(alloc) {",
          "  const a = alloc.tryMalloc(32);",
          "  if (a === 0) throw alloc.lastError;",
          "  const b = alloc.tryMalloc(32); // leaks a on failure",
          "  if (b === 0) throw alloc.lastError;",
          "  alloc.free(b);",
          "  alloc.free(a);",
          "  return 2;",
          "}",
        ].join("\n"),
      );
      const { build } = (await import(pathToFileURL(file).href)) as { build: (a: Allocator) => number };
      const report = await sweepAllocations(build, { modes: ["transient"] });
      expect(report.sites.map((s) => s.site)).toEqual([
        expect.stringContaining("index-builder.js:2:"),
        expect.stringContaining("index-builder.js:4:"),
      ]);
      expect(report.sites[1]?.problems).toEqual(["leak"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
