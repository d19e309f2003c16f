import { Heap, type StrategyName } from "memkit/heap";
import { describe, expect, it } from "vitest";

const strategies: StrategyName[] = ["tlsf", "arena", "pool"];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe.each(strategies)("%s: bad input is a typed error and the heap stays clean", (strategy) => {
  const make = () => Heap.fixed(16 * 1024, { strategy, slotSize: 64 });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 1.5, 2 ** 40, "8" as unknown as number])(
    "malloc(%s) -> ERR_MEMKIT_INVALID_SIZE",
    (size) => {
      const heap = make();
      expect(codeOf(() => heap.malloc(size))).toBe("ERR_MEMKIT_INVALID_SIZE");
      expect(codeOf(() => heap.tryMalloc(size))).toBe("ERR_MEMKIT_INVALID_SIZE");
      heap.check();
      expect(heap.stats().liveBlocks).toBe(0);
    },
  );

  it.each([3, 0, -8, 12, 2 ** 20, Number.NaN])("alignment %s -> ERR_MEMKIT_INVALID_ALIGNMENT", (align) => {
    const heap = make();
    expect(codeOf(() => heap.malloc(8, align))).toBe("ERR_MEMKIT_INVALID_ALIGNMENT");
    heap.check();
  });

  it("double free -> ERR_MEMKIT_DOUBLE_FREE, heap unchanged", () => {
    const heap = make();
    const a = heap.malloc(32);
    const b = heap.malloc(32);
    heap.free(a);
    const before = heap.stats();
    expect(codeOf(() => heap.free(a))).toBe("ERR_MEMKIT_DOUBLE_FREE");
    expect(heap.stats()).toEqual(before);
    heap.check();
    heap.free(b);
    heap.check();
  });

  it.each([
    ["out of range", (p: number) => p + 1_000_000],
    ["misaligned", (p: number) => p + 4],
    ["inside a block", (p: number) => p + 16],
    ["before the heap", () => 8],
    ["negative", () => -8],
    ["fractional", (p: number) => p + 0.5],
  ])("free(%s pointer) -> ERR_MEMKIT_INVALID_POINTER", (_name, make_ptr) => {
    const heap = make();
    const p = heap.malloc(64);
    heap.u8.fill(0x41, p, p + 64);
    expect(codeOf(() => heap.free(make_ptr(p)))).toBe("ERR_MEMKIT_INVALID_POINTER");
    expect(codeOf(() => heap.usableSize(make_ptr(p)))).toBe("ERR_MEMKIT_INVALID_POINTER");
    heap.check();
    heap.free(p);
    heap.check();
  });

  it("exhaustion: malloc throws OutOfMemoryError with figures, tryMalloc returns 0", () => {
    const heap = make();
    const ptrs: number[] = [];
    for (;;) {
      const p = heap.tryMalloc(64);
      if (p === 0) break;
      ptrs.push(p);
    }
    expect(ptrs.length).toBeGreaterThan(50);
    let error: unknown;
    try {
      heap.malloc(64);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "ERR_MEMKIT_OUT_OF_MEMORY", requested: 64 });
    expect((error as { largestFreeBlock: number }).largestFreeBlock).toBeLessThan(64 + 8);
    heap.check();
    for (const p of ptrs) heap.free(p);
    heap.check();
    expect(heap.tryMalloc(64)).not.toBe(0);
  });
});

describe("attach errors", () => {
  it("a buffer with no heap -> ERR_MEMKIT_NOT_A_HEAP", () => {
    expect(codeOf(() => Heap.attach(new ArrayBuffer(4096)))).toBe("ERR_MEMKIT_NOT_A_HEAP");
    expect(codeOf(() => Heap.attach(new ArrayBuffer(8)))).toBe("ERR_MEMKIT_NOT_A_HEAP");
  });

  it("a layout version mismatch -> ERR_MEMKIT_LAYOUT_VERSION", () => {
    const heap = Heap.fixed(8192);
    new Int32Array(heap.buffer)[1] = 99;
    expect(codeOf(() => Heap.attach(heap.memory))).toBe("ERR_MEMKIT_LAYOUT_VERSION");
  });

  it("not a buffer -> ERR_MEMKIT_INVALID_ARGUMENT", () => {
    expect(codeOf(() => Heap.over(new Uint8Array(64) as unknown as ArrayBuffer))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });

  it("memory too small or bad options -> ERR_MEMKIT_INVALID_SIZE / INVALID_ARGUMENT", () => {
    expect(codeOf(() => Heap.over(new ArrayBuffer(100)))).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(codeOf(() => Heap.over(new ArrayBuffer(8192), { base: 4 }))).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(codeOf(() => Heap.fixed(8192, { zero: "sometimes" as "alloc" }))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
    expect(codeOf(() => Heap.create({ initialBytes: -1 }))).toBe("ERR_MEMKIT_INVALID_SIZE");
  });

  it("bad options are refused before the caller's memory is touched", () => {
    const memory = new ArrayBuffer(8192);
    new Uint8Array(memory).fill(0xab);
    for (const bad of [{ zero: "never" as "alloc" }, { slotSize: 0 }, { maxBytes: -1 }, { base: 12 }]) {
      expect(() => Heap.over(memory, bad)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^ERR_MEMKIT_/) }),
      );
    }
    expect(new Uint8Array(memory).every((b) => b === 0xab)).toBe(true);
  });

  it("attach reopens the same heap: blocks and stats are shared", () => {
    const heap = Heap.fixed(16384);
    const p = heap.malloc(100);
    heap.u8[p] = 7;
    const again = Heap.attach(heap.memory);
    expect(again.u8[p]).toBe(7);
    expect(again.usableSize(p)).toBeGreaterThanOrEqual(100);
    again.free(p);
    heap.check();
    expect(heap.stats().liveBlocks).toBe(0);
  });
});

describe("calloc", () => {
  it("overflowing count*size -> ERR_MEMKIT_INVALID_SIZE", () => {
    const heap = Heap.fixed(8192);
    expect(codeOf(() => heap.calloc(2 ** 20, 2 ** 20))).toBe("ERR_MEMKIT_INVALID_SIZE");
  });

  it("zeroes even in zero: none mode", () => {
    const heap = Heap.fixed(8192, { zero: "none" });
    const p = heap.malloc(64);
    heap.u8.fill(0xaa, p, p + 64);
    heap.free(p);
    const q = heap.calloc(8, 8);
    expect([...heap.u8.subarray(q, q + 64)].every((b) => b === 0)).toBe(true);
  });
});

describe("zero modes", () => {
  it("none may show old bytes; free wipes on free; alloc zeroes on alloc", () => {
    for (const zero of ["none", "free", "alloc"] as const) {
      const heap = Heap.fixed(8192, { zero });
      const p = heap.malloc(64);
      heap.u8.fill(0xaa, p, p + 64);
      heap.free(p);
      const wipedOnFree = heap.u8.subarray(p + 16, p + 64).every((b) => b === 0);
      expect(wipedOnFree).toBe(zero === "free");
      const q = heap.malloc(64);
      expect(q).toBe(p);
      const zeroNow = heap.u8.subarray(q + 16, q + 64).every((b) => b === 0);
      expect(zeroNow).toBe(zero !== "none");
    }
  });
});
