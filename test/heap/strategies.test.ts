import { type ArenaHeap, Heap, type PoolHeap, TlsfHeap } from "memkit/heap";
import { describe, expect, it } from "vitest";

describe("tlsf", () => {
  it("is the default strategy", () => {
    expect(Heap.create()).toBeInstanceOf(TlsfHeap);
  });

  it("realloc grows in place into a free right neighbour and shrinks in place", () => {
    const heap = Heap.fixed(64 * 1024);
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    heap.u8.fill(7, a, a + 64);
    heap.free(b);
    expect(heap.realloc(a, 120)).toBe(a);
    expect([...heap.u8.subarray(a, a + 64)].every((x) => x === 7)).toBe(true);
    expect(heap.realloc(a, 16)).toBe(a);
    expect(heap.usableSize(a)).toBe(16);
    heap.check();
  });

  it("realloc moves when the neighbour is taken and keeps contents", () => {
    const heap = Heap.fixed(64 * 1024);
    const a = heap.malloc(32);
    heap.malloc(32);
    heap.u8.fill(9, a, a + 32);
    const moved = heap.realloc(a, 1000);
    expect(moved).not.toBe(a);
    expect([...heap.u8.subarray(moved, moved + 32)].every((x) => x === 9)).toBe(true);
    heap.check();
  });

  it("a failed realloc leaves the old block valid", () => {
    const heap = Heap.fixed(8192);
    const a = heap.malloc(100);
    heap.u8.fill(3, a, a + 100);
    expect(() => heap.realloc(a, 100_000)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_OUT_OF_MEMORY" }));
    expect(heap.u8[a + 99]).toBe(3);
    heap.free(a);
    heap.check();
  });

  it.each([16, 32, 64, 4096])("honours alignment %i", (align) => {
    const heap = Heap.fixed(256 * 1024);
    for (let i = 0; i < 20; i++) expect(heap.malloc(24 + i, align) % align).toBe(0);
    heap.check();
  });

  it("usableSize is at least the request, rounded to 8", () => {
    const heap = Heap.fixed(8192);
    expect(heap.usableSize(heap.malloc(10))).toBe(16);
    expect(heap.usableSize(heap.malloc(100))).toBe(104);
  });

  it("stats report capacity, peak and fragmentation", () => {
    const heap = Heap.fixed(64 * 1024);
    const ptrs = Array.from({ length: 20 }, () => heap.malloc(512));
    for (let i = 0; i < ptrs.length; i += 2) heap.free(ptrs[i] as number);
    const stats = heap.stats();
    expect(stats.capacity).toBe(64 * 1024);
    expect(stats.liveBlocks).toBe(10);
    expect(stats.used).toBe(10 * 512);
    expect(stats.peakUsed).toBe(20 * 512);
    expect(stats.freeBlocks).toBe(11);
    expect(stats.fragmentation).toBeGreaterThan(0);
    expect(stats.fragmentation).toBeLessThan(1);
  });
});

describe("arena", () => {
  it("mark/reset frees by scope", () => {
    const arena = Heap.create({ strategy: "arena" }) as ArenaHeap;
    const keep = arena.malloc(100);
    const mark = arena.mark();
    for (let i = 0; i < 100; i++) arena.malloc(50);
    expect(arena.stats().liveBlocks).toBe(101);
    arena.reset(mark);
    expect(arena.stats().liveBlocks).toBe(1);
    expect(arena.usableSize(keep)).toBe(104);
    expect(arena.malloc(8)).toBe(mark + 8);
    arena.reset();
    expect(arena.stats().liveBlocks).toBe(0);
    arena.check();
  });

  it("a bad mark is a typed error", () => {
    const arena = Heap.create({ strategy: "arena" }) as ArenaHeap;
    arena.malloc(64);
    expect(() => arena.reset(arena.mark() + 8)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
    );
    expect(() => arena.reset(arena.mark() - 8)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
    );
    arena.check();
  });

  it("freeing the newest block rolls the top back; realloc of it stays in place", () => {
    const arena = Heap.create({ strategy: "arena" }) as ArenaHeap;
    const a = arena.malloc(64);
    const top = arena.mark();
    const b = arena.malloc(64);
    arena.free(b);
    expect(arena.mark()).toBe(top);
    expect(arena.realloc(a, 4096)).toBe(a);
    arena.check();
  });

  it("aligned requests leave a filler the walk understands", () => {
    const arena = Heap.create({ strategy: "arena" }) as ArenaHeap;
    arena.malloc(8);
    expect(arena.malloc(8, 256) % 256).toBe(0);
    arena.check();
  });
});

describe("pool", () => {
  it("reuses slots last-freed first and refuses oversize requests", () => {
    const pool = Heap.create({ strategy: "pool", slotSize: 32 }) as PoolHeap;
    expect(pool.slotSize).toBe(32);
    const a = pool.malloc(32);
    pool.malloc(1);
    pool.free(a);
    expect(pool.malloc(20)).toBe(a);
    expect(() => pool.malloc(33)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_UNSUPPORTED" }));
    expect(() => pool.realloc(a, 64)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_UNSUPPORTED" }));
    expect(pool.realloc(a, 8)).toBe(a);
    pool.check();
  });
});

describe("defaultHeap", () => {
  it("is one lazily created process-wide heap", async () => {
    const { defaultHeap } = await import("../../src/heap/index.js");
    expect(defaultHeap()).toBe(defaultHeap());
    defaultHeap().free(defaultHeap().malloc(8));
  });
});
