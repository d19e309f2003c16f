import { Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";

describe("debug mode", () => {
  it("a write past the end is caught on free, naming the offset", () => {
    const heap = Heap.create({ debug: true });
    const p = heap.malloc(20);
    heap.u8[p + 20] = 1;
    let error: unknown;
    try {
      heap.free(p);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "ERR_MEMKIT_HEAP_CORRUPTION", offset: p + 20 });
  });

  it("a write before the start is caught by check()", () => {
    const heap = Heap.create({ debug: true });
    const p = heap.malloc(20);
    heap.u8[p - 1] = 1;
    expect(() => heap.check()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_HEAP_CORRUPTION", offset: p - 1 }));
  });

  it("a write after free is caught from the quarantine", () => {
    const heap = Heap.create({ debug: true });
    const p = heap.malloc(64);
    heap.free(p);
    heap.u8[p + 3] = 9;
    expect(() => heap.check()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_HEAP_CORRUPTION", offset: p + 3 }));
  });

  it("quarantine delays reuse: the next allocation gets another address", () => {
    const heap = Heap.create({ debug: true });
    const p = heap.malloc(64);
    heap.free(p);
    expect(heap.malloc(64)).not.toBe(p);
  });

  it("double free and foreign pointers are exact", () => {
    const heap = Heap.create({ debug: true });
    const p = heap.malloc(64);
    heap.free(p);
    expect(() => heap.free(p)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_DOUBLE_FREE" }));
    const q = heap.malloc(64);
    expect(() => heap.free(q + 8)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_POINTER" }));
    heap.free(q);
    heap.check();
  });

  it("a damaged TLSF header is reported by check() without debug mode", () => {
    const heap = Heap.fixed(8192);
    const p = heap.malloc(64);
    heap.malloc(64);
    new Int32Array(heap.buffer)[(p - 8) >> 2] = 12345;
    expect(() => heap.check()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_HEAP_CORRUPTION" }));
  });
});

describe("leaks", () => {
  it("trackSites lists live blocks with their allocation site and groups them", () => {
    const heap = Heap.create({ trackSites: true });
    function allocateConfig() {
      return heap.malloc(100);
    }
    for (let i = 0; i < 2; i++) allocateConfig();
    const keep = heap.malloc(10);
    heap.leak(keep);
    const live = heap.live();
    expect(live).toHaveLength(3);
    expect(live.find((b) => b.ptr === keep)?.intentional).toBe(true);
    const report = heap.leakReport();
    expect(report.sites).toHaveLength(1);
    expect(report.sites[0]?.blocks).toBe(2);
    expect(report.sites[0]?.site).toContain("allocateConfig");
  });

  it("without tracking, live() still lists blocks by walking the heap", () => {
    const heap = Heap.fixed(8192);
    const p = heap.malloc(10);
    expect(heap.live()).toEqual([{ ptr: p, size: 16, site: undefined, intentional: false }]);
  });

  it("a cell reclaimed by the GC while still allocated is a definite leak; leak() silences it", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) {
      // vitest.config passes --expose-gc to workers; guard anyway so the reason is visible.
      throw new Error("run with --expose-gc");
    }
    const leaks: number[] = [];
    const heap = Heap.create({ trackSites: true, onLeak: (leak) => leaks.push(leak.ptr) });
    let lost = 0;
    let kept = 0;
    (() => {
      lost = heap.alloc(Float64Array, 8).ptr;
      const pinned = heap.alloc(Float64Array, 8);
      kept = pinned.ptr;
      heap.leak(pinned);
      heap.alloc(Float64Array, 8).free();
    })();
    for (let i = 0; i < 20 && leaks.length === 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(leaks).toEqual([lost]);
    expect(heap.leakReport().collected.map((l) => l.ptr)).toEqual([lost]);
    expect(leaks).not.toContain(kept);
  });
});

describe("snapshots", () => {
  it("restore erases allocations and writes made since, and revokes newer cells", () => {
    const heap = Heap.create({ initialBytes: 8192, maxBytes: 1 << 20 });
    const old = heap.alloc(Uint8Array, 16);
    old.view.fill(1);
    const snap = heap.snapshot();
    old.view.fill(2);
    const fresh = heap.alloc(Uint8Array, 100_000); // forces growth too
    heap.restore(snap);
    expect([...old.view].every((b) => b === 1)).toBe(true);
    expect(() => fresh.view).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_USE_AFTER_FREE" }));
    expect(heap.stats().liveBlocks).toBe(1);
    heap.check();
    const again = heap.alloc(Uint8Array, 100_000);
    expect(again.view.length).toBe(100_000);
    heap.check();
  });

  it("a snapshot of another heap is refused", () => {
    const a = Heap.fixed(8192);
    const b = Heap.fixed(16384);
    expect(() => b.restore(a.snapshot())).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }));
  });
});
