import { Heap, type StrategyName } from "memkit/heap";
import { describe, expect, it } from "vitest";

const strategies: StrategyName[] = ["tlsf", "arena", "pool"];
const ALLOWED = new Set([
  "ERR_MEMKIT_HEAP_CORRUPTION",
  "ERR_MEMKIT_NOT_A_HEAP",
  "ERR_MEMKIT_LAYOUT_VERSION",
  "ERR_MEMKIT_OUT_OF_MEMORY",
  "ERR_MEMKIT_INVALID_POINTER",
  "ERR_MEMKIT_DOUBLE_FREE",
]);

function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Runs a few operations on whatever attach gave; every outcome must be normal or a typed error. */
function exercise(memory: ArrayBuffer, strategy: StrategyName): void {
  let heap: Heap;
  try {
    heap = Heap.attach(memory);
  } catch (error) {
    expect(ALLOWED).toContain((error as { code?: string }).code);
    return;
  }
  const live: [number, number][] = [];
  for (let i = 0; i < 20; i++) {
    try {
      const size = strategy === "pool" ? 32 : 8 + i * 24;
      const p = heap.malloc(size);
      expect(p).toBeGreaterThanOrEqual(heap.base);
      expect(p + size).toBeLessThanOrEqual(memory.byteLength);
      for (const [q, s] of live) expect(p + size <= q || q + s <= p).toBe(true);
      live.push([p, size]);
    } catch (error) {
      expect(ALLOWED).toContain((error as { code?: string }).code);
    }
  }
  for (const fn of [() => heap.stats(), () => heap.check(), () => heap.live()]) {
    try {
      fn();
    } catch (error) {
      expect(ALLOWED).toContain((error as { code?: string }).code);
    }
  }
}

describe.each(strategies)("%s: Heap.attach validates the header against the memory", (strategy) => {
  const make = () => {
    const heap = Heap.fixed(64 * 1024, { strategy, slotSize: 32 });
    for (let i = 0; i < 10; i++) heap.malloc(24);
    return heap;
  };

  it("random bytes behind a valid magic, version and strategy: typed errors, never a hang or a stray pointer", () => {
    const random = seeded(7);
    for (let round = 0; round < 40; round++) {
      const heap = make();
      const words = new Int32Array(heap.u8.buffer);
      // Keep magic, version and strategy; randomise the rest of the header and the control words.
      for (let i = 3; i < 400; i++) if (random() % 3 === 0) words[i] = random() | 0;
      exercise(heap.u8.buffer as ArrayBuffer, strategy);
    }
  });

  it("a truncated copy is refused (its end lies past the buffer)", () => {
    const heap = make();
    const copy = heap.u8.buffer.slice(0, 16 * 1024) as ArrayBuffer;
    expect(() => Heap.attach(copy)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_HEAP_CORRUPTION" }));
  });

  it("a corrupted top / fresh / head word never yields a negative or outside pointer", () => {
    for (const value of [-8, -1, 1 << 30, 12, 0x7ffffff8]) {
      for (const word of [13, 14, 24]) {
        const heap = make();
        new Int32Array(heap.u8.buffer)[word] = value;
        exercise(heap.u8.buffer as ArrayBuffer, strategy);
      }
    }
  });
});
