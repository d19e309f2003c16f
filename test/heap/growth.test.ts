import { Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";

const PAGE = 65536;

describe("growth", () => {
  it.each([23, 24, 25])("a fresh heap over WebAssembly.Memory serves malloc(2^%i + 1) by growing", (k) => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 2048 });
    const heap = Heap.over(memory, { base: PAGE });
    const p = heap.malloc(2 ** k + 1);
    expect(heap.usableSize(p)).toBeGreaterThanOrEqual(2 ** k + 1);
    heap.check();
  });

  it("Heap.create() serves malloc(16 MiB + 1)", () => {
    const heap = Heap.create();
    const p = heap.malloc(16 * 1024 * 1024 + 1);
    expect(p).toBeGreaterThan(0);
    heap.check();
  });

  it("memory that grows in place gets bounded headroom, not doubling", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 4096 });
    const heap = Heap.over(memory, { base: PAGE });
    const chunk = 96 * 1024;
    let live = 0;
    for (let i = 0; i < 200; i++) {
      heap.malloc(chunk);
      live += chunk;
    }
    // 200 x 96 KiB = 18.75 MiB live; doubling would reach 32 MiB.
    expect(memory.buffer.byteLength).toBeLessThanOrEqual(live * 1.2);
    heap.check();
  });

  it("growthHeadroom: 0 grows by what is needed, rounded to pages", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 4096 });
    const heap = Heap.over(memory, { base: PAGE, growthHeadroom: 0 });
    for (let i = 0; i < 100; i++) heap.malloc(100_000);
    expect(memory.buffer.byteLength).toBeLessThanOrEqual(100 * 100_100 + PAGE * 3);
  });

  it("growthHeadroom is validated", () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    expect(() => Heap.over(memory, { growthHeadroom: -1 })).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }),
    );
  });
});
