import {
  allocate,
  Budget,
  benign,
  FaultInjector,
  HeapAllocator,
  HeapIntMap,
  HeapVec,
  mallocOrThrow,
  parseFaultSpec,
} from "memkit/fallible";
import { Heap } from "memkit/heap";
import { describe, expect, it, vi } from "vitest";

const base = () => new HeapAllocator(Heap.create({ initialBytes: 64 * 1024, maxBytes: 8 << 20 }));

function failuresOf(injector: FaultInjector, count: number, bytes = 16): number[] {
  const failed: number[] = [];
  for (let i = 1; i <= count; i++) {
    const p = injector.tryMalloc(bytes);
    if (p === 0) failed.push(i);
    else injector.free(p);
  }
  return failed;
}

describe("FaultInjector knobs", () => {
  it("nothing fails without a knob", () => {
    expect(failuresOf(new FaultInjector(base()), 50)).toEqual([]);
  });

  it("nth fails exactly the N-th allocation (transient)", () => {
    expect(failuresOf(new FaultInjector(base(), { nth: 3 }), 10)).toEqual([3]);
  });

  it("persistent mode fails every allocation from the first injection on", () => {
    expect(failuresOf(new FaultInjector(base(), { nth: 3, mode: "persistent" }), 6)).toEqual([3, 4, 5, 6]);
  });

  it("interval fails every N-th; times caps the failures", () => {
    expect(failuresOf(new FaultInjector(base(), { interval: 3 }), 10)).toEqual([3, 6, 9]);
    expect(failuresOf(new FaultInjector(base(), { interval: 2, times: 2 }), 10)).toEqual([2, 4]);
  });

  it("probability with a seed reproduces the same failures", () => {
    const a = failuresOf(new FaultInjector(base(), { probability: 0.3, seed: 42 }), 200);
    const b = failuresOf(new FaultInjector(base(), { probability: 0.3, seed: 42 }), 200);
    const c = failuresOf(new FaultInjector(base(), { probability: 0.3, seed: 7 }), 200);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.length).toBeGreaterThan(30);
    expect(a.length).toBeLessThan(100);
  });

  it("space allows that many bytes before failures start (boundary inclusive)", () => {
    const injector = new FaultInjector(base(), { space: 64, interval: 1 });
    const kept = [injector.tryMalloc(32), injector.tryMalloc(32)];
    expect(kept.every((p) => p !== 0)).toBe(true); // 64 bytes: still within space
    expect(injector.tryMalloc(1)).toBe(0);
  });

  it("minSize spares small allocations", () => {
    const injector = new FaultInjector(base(), { interval: 1, minSize: 100 });
    expect(injector.tryMalloc(99)).not.toBe(0);
    expect(injector.tryMalloc(100)).toBe(0);
  });

  it("site filters match the allocation's stack", () => {
    const injector = new FaultInjector(base(), { interval: 1, include: ["parseHeader"] });
    function parseHeader() {
      return injector.tryMalloc(8);
    }
    function parseBody() {
      return injector.tryMalloc(8);
    }
    expect(parseBody()).not.toBe(0);
    expect(parseHeader()).toBe(0);
    const excluding = new FaultInjector(base(), { interval: 1, exclude: [/readFooter/] });
    function readFooter() {
      return excluding.tryMalloc(8);
    }
    function readTrailer() {
      return excluding.tryMalloc(8);
    }
    expect(readFooter()).not.toBe(0);
    expect(readTrailer()).toBe(0);
  });

  it("records every injection with its stack and prints a report", () => {
    const injector = new FaultInjector(base(), { nth: 2 });
    function loadIndex() {
      injector.tryMalloc(10);
      return injector.tryMalloc(20);
    }
    expect(loadIndex()).toBe(0);
    expect(injector.records).toHaveLength(1);
    expect(injector.records[0]).toMatchObject({ n: 2, bytes: 20, injected: true });
    expect(injector.report()).toContain("loadIndex");
    expect(injector.lastError).toMatchObject({ code: "ERR_MEMKIT_ALLOC_FAILED", kind: "injected", requested: 20 });
  });

  it("errors as values: allocate() result object, mallocOrThrow() typed error", () => {
    const injector = new FaultInjector(base(), { nth: 1 });
    const r = allocate(injector, 8);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.kind).toBe("injected");
    expect(() => mallocOrThrow(new FaultInjector(base(), { nth: 1 }), 8)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_ALLOC_FAILED", kind: "injected" }),
    );
  });

  it("a bad knob is a typed error", () => {
    expect(() => new FaultInjector(base(), { probability: 2 })).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }),
    );
    expect(() => new FaultInjector(base(), { nth: -1 })).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }),
    );
  });
});

describe("MEMKIT_FAULTS", () => {
  it("parses every key", () => {
    expect(parseFaultSpec("p=10%,seed=42,times=3")).toEqual({ probability: 0.1, seed: 42, times: 3 });
    expect(parseFaultSpec("nth=5,mode=persistent,minsize=64,space=1024,interval=2,include=a|b,exclude=c")).toEqual({
      nth: 5,
      mode: "persistent",
      minSize: 64,
      space: 1024,
      interval: 2,
      include: ["a", "b"],
      exclude: ["c"],
    });
  });

  it("rejects bad specs with a typed error", () => {
    for (const bad of ["p=200%", "nth=x", "mode=sometimes", "colour=red"]) {
      expect(() => parseFaultSpec(bad)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }));
    }
  });

  it("fromEnv returns the allocator itself when unset (zero cost), an injector when set", () => {
    const inner = base();
    expect(FaultInjector.fromEnv(inner, {})).toBe(inner);
    const wrapped = FaultInjector.fromEnv(inner, { MEMKIT_FAULTS: "nth=1" });
    expect(wrapped).toBeInstanceOf(FaultInjector);
    expect(wrapped.tryMalloc(8)).toBe(0);
  });
});

describe("Budget", () => {
  it("the hard limit fails allocations with kind budget; the soft limit warns once", () => {
    const warnings: number[] = [];
    const budget = new Budget(base(), { hardBytes: 256, softBytes: 100, onSoftLimit: (used) => warnings.push(used) });
    const a = budget.tryMalloc(64);
    const b = budget.tryMalloc(64);
    expect(warnings).toEqual([128]);
    expect(budget.tryMalloc(200)).toBe(0);
    expect(budget.lastError).toMatchObject({ kind: "budget", requested: 200, available: 128 });
    budget.free(a);
    budget.free(b);
    expect(budget.usedBytes).toBe(0);
    budget.tryMalloc(120);
    expect(warnings).toHaveLength(1);
  });

  it("budgets nest: the inner fails at its own limit, the outer at the global one", () => {
    const global = new Budget(base(), { hardBytes: 1000 });
    const request = new Budget(global, { hardBytes: 300 });
    expect(request.tryMalloc(256)).not.toBe(0);
    expect(request.tryMalloc(64)).toBe(0);
    expect(request.lastError?.kind).toBe("budget");
    const other = new Budget(global, { hardBytes: 1000 });
    expect(other.tryMalloc(800)).toBe(0); // 256 + 800 > 1000 globally
    expect(other.lastError).toMatchObject({ kind: "budget", available: 1000 - 256 });
  });

  it("realloc is accounted; a refused realloc leaves the block intact", () => {
    const budget = new Budget(base(), { hardBytes: 200 });
    const p = budget.tryMalloc(16);
    budget.heap.u8[p] = 9;
    expect(budget.tryRealloc(p, 500)).toBe(0);
    expect(budget.heap.u8[p]).toBe(9);
    const q = budget.tryRealloc(p, 100);
    expect(q).not.toBe(0);
    expect(budget.usedBytes).toBe(104);
  });
});

const codeOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return "no error";
};

describe("FaultInjector edges (issue 12)", () => {
  it("persistent mode honours times: nth 7, times 3 fails exactly 7, 8, 9 (SQLite: the Nth and the next R)", () => {
    expect(failuresOf(new FaultInjector(base(), { nth: 7, times: 3, mode: "persistent" }), 30)).toEqual([7, 8, 9]);
    expect(failuresOf(new FaultInjector(base(), { nth: 7, mode: "persistent" }), 10)).toEqual([7, 8, 9, 10]);
  });

  it.each([
    [{ include: "parser" }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ exclude: [42] }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ mode: "sometimes" }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ verbose: 3 }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ recordAllSites: "yes" }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ probabilty: 0.5 }, "ERR_MEMKIT_INVALID_ARGUMENT"],
    [{ seed: "x" }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ seed: 1.9 }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ seed: 2 ** 32 + 5 }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ seed: -1 }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ probability: "0.5" }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ probability: 2 }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ probability: Number.NaN }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ nth: 0 }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ interval: 0 }, "ERR_MEMKIT_INVALID_SIZE"],
    [{ times: -1 }, "ERR_MEMKIT_INVALID_SIZE"],
  ])("option %j is refused when given (%s)", (options, code) => {
    expect(codeOf(() => new FaultInjector(base(), options as never))).toBe(code);
  });

  it("probability: 2 reports the value given, not -1", () => {
    let error: { value?: unknown } = {};
    try {
      new FaultInjector(base(), { probability: 2 });
    } catch (e) {
      error = e as { value?: unknown };
    }
    expect(error.value).toBe(2);
  });

  it.each([
    "p=",
    "nth=",
    "times",
    "seed=abc",
    "seed=1.5",
    "seed=4294967296",
    "p=2",
    "p=150%",
    "interval=0",
    "verbose=3",
    "mode=",
    "include=",
  ])("MEMKIT_FAULTS %j is a typed error, never a silent 0", (spec) => {
    expect(codeOf(() => parseFaultSpec(spec))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });

  it("every seed has its own sequence (0/1, 2^32-1/0, neighbours); the same seed replays", () => {
    const pattern = (seed: number) => failuresOf(new FaultInjector(base(), { probability: 0.5, seed }), 64).join(",");
    const seeds = [0, 1, 2, 5, 2 ** 32 - 1, 2 ** 31];
    const patterns = seeds.map(pattern);
    expect(new Set(patterns).size).toBe(seeds.length);
    expect(pattern(5)).toBe(patterns[3]);
  });

  it("without a seed one is drawn, shown in seed and report(), and replays the run", () => {
    const first = new FaultInjector(base(), { probability: 0.3 });
    const failed = failuresOf(first, 100);
    expect(first.report()).toContain(`seed ${first.seed}`);
    expect(failuresOf(new FaultInjector(base(), { probability: 0.3, seed: first.seed }), 100)).toEqual(failed);
  });

  it("interval counts only allocations that passed the filters (kernel failslab)", () => {
    const injector = new FaultInjector(base(), { interval: 2, minSize: 64 });
    const sizes = [8, 64, 8, 8, 64, 8, 64, 64];
    const failed = sizes.flatMap((bytes, i) => {
      const p = injector.tryMalloc(bytes);
      if (p !== 0) injector.free(p);
      return p === 0 ? [i] : [];
    });
    expect(failed).toEqual([4, 7]); // the 2nd and 4th allocation of >= 64 bytes
    expect(injector.eligible).toBe(4);
  });

  it("verbose: 1 logs one line per injection, 2 adds the stack", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      failuresOf(new FaultInjector(base(), { nth: 2, verbose: 1, seed: 9 }), 3);
      failuresOf(new FaultInjector(base(), { nth: 1, verbose: 2, seed: 9 }), 1);
      expect(log).toHaveBeenCalledTimes(2);
      expect(String(log.mock.calls[0]?.[0]).split("\n")).toHaveLength(1);
      expect(String(log.mock.calls[1]?.[0]).split("\n").length).toBeGreaterThan(1);
    } finally {
      log.mockRestore();
    }
  });

  it("pending counts down to the nth failure, then -1 (sqlite3_memdebug_pending)", () => {
    const injector = new FaultInjector(base(), { nth: 3 });
    const seen = [injector.pending];
    for (let i = 0; i < 4; i++) {
      const p = injector.tryMalloc(8);
      if (p !== 0) injector.free(p);
      seen.push(injector.pending);
    }
    expect(seen).toEqual([2, 1, 0, -1, -1]);
    expect(new FaultInjector(base(), { interval: 2 }).pending).toBe(-1);
  });

  it("failures inside benign() are recorded and counted as benign", () => {
    const injector = new FaultInjector(base(), { interval: 1 });
    expect(benign(() => injector.tryMalloc(8))).toBe(0);
    expect(injector.tryMalloc(8)).toBe(0);
    expect(injector.records.map((r) => r.benign)).toEqual([true, false]);
    expect(injector.benignFailures).toBe(1);
  });
});

describe("strict input of the other layers", () => {
  it.each([
    ["Budget with an unknown option", () => new Budget(base(), { hardbytes: 10 } as never)],
    ["Budget with a non-function onSoftLimit", () => new Budget(base(), { onSoftLimit: "warn" } as never)],
    ["Budget over a non-allocator", () => new Budget({} as never)],
    ["FaultInjector over a non-allocator", () => new FaultInjector(42 as never)],
    ["HeapVec of a non-typed-array type", () => new HeapVec(base(), Array as never)],
    ["HeapIntMap over a non-allocator", () => new HeapIntMap(null as never, Uint32Array)],
  ])("%s is ERR_MEMKIT_INVALID_ARGUMENT", (_what, make) => {
    expect(codeOf(make)).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });
});
