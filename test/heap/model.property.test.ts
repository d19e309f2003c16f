import fc from "fast-check";
import { ArenaHeap, Heap, type StrategyName } from "memkit/heap";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../helpers/fuzz-parameters.js";
import { HeapModel } from "../helpers/heap-model.js";

type Op =
  | { kind: "malloc"; size: number; align: number }
  | { kind: "calloc"; count: number; size: number }
  | { kind: "free"; index: number }
  | { kind: "realloc"; index: number; size: number };

function ops(maxSize: number): fc.Arbitrary<Op[]> {
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("malloc" as const),
        size: fc.integer({ min: 0, max: maxSize }),
        align: fc.constantFrom(8, 8, 8, 16, 64, 256),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("calloc" as const),
        count: fc.integer({ min: 0, max: 16 }),
        size: fc.integer({ min: 0, max: Math.max(1, maxSize >> 4) }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("free" as const), index: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("realloc" as const),
        index: fc.nat(),
        size: fc.integer({ min: 0, max: maxSize }),
      }),
    },
  );
  return fc.array(op, { maxLength: 120 });
}

function run(heap: Heap, sequence: Op[], strategy: StrategyName): HeapModel {
  const model = new HeapModel(heap);
  for (const op of sequence) {
    if (op.kind === "malloc") {
      const align = strategy === "pool" ? 8 : op.align;
      const ptr = heap.tryMalloc(op.size, align);
      if (ptr === 0) continue;
      expect(ptr % align).toBe(0);
      // zero: "alloc" is the default: a new block reads as zeros before we fill it.
      for (let i = ptr; i < ptr + op.size; i++)
        if (heap.u8[i] !== 0) throw new Error(`fresh block ${ptr} is not zeroed`);
      model.add(ptr, op.size);
    } else if (op.kind === "calloc") {
      let ptr: number;
      try {
        ptr = heap.calloc(op.count, op.size);
      } catch {
        continue;
      }
      for (let i = ptr; i < ptr + op.count * op.size; i++)
        if (heap.u8[i] !== 0) throw new Error("calloc block not zero");
      model.add(ptr, op.count * op.size);
    } else if (model.blocks.length > 0) {
      const index = op.index % model.blocks.length;
      const block = model.blocks[index];
      if (block === undefined) continue;
      if (op.kind === "free") {
        heap.free(block.ptr);
        model.blocks.splice(index, 1);
      } else {
        const usable = heap.usableSize(block.ptr);
        let moved: number;
        try {
          moved = heap.realloc(block.ptr, op.size);
        } catch {
          continue; // out of memory or a pool slot too small: the old block must stay intact (verified below)
        }
        const kept = Math.min(block.size, op.size);
        for (let i = 0; i < kept; i++) if (heap.u8[moved + i] !== block.fill) throw new Error("realloc lost contents");
        // TLSF zeroes what realloc adds beyond the old usable size (zero: "alloc"), in place or moved.
        if (strategy === "tlsf")
          for (let i = Math.max(kept, usable); i < op.size; i++)
            if (heap.u8[moved + i] !== 0) throw new Error("realloc growth not zeroed");
        model.blocks.splice(index, 1);
        model.add(moved, op.size);
      }
    }
    model.verify(8);
  }
  return model;
}

const strategies: { strategy: StrategyName; maxSize: number; cache?: boolean; engine?: "typescript" }[] = [
  { strategy: "tlsf", maxSize: 3000 },
  // The TLSF hot paths in TypeScript (the default above runs the WebAssembly engine).
  { strategy: "tlsf", maxSize: 3000, engine: "typescript" },
  { strategy: "tlsf", maxSize: 600, cache: true },
  { strategy: "arena", maxSize: 3000 },
  { strategy: "pool", maxSize: 48 },
];

describe.each(strategies)(
  "$strategy (cache: $cache, engine: $engine) against the model",
  ({ strategy, maxSize, cache, engine }) => {
    it("keeps blocks disjoint, inside the buffer, aligned, intact and the heap checking clean", () => {
      fc.assert(
        fc.property(ops(maxSize), fc.boolean(), (sequence, fixed) => {
          const heap = fixed
            ? Heap.fixed(64 * 1024, { strategy, slotSize: 48, cache: cache ?? false, ...(engine && { engine }) })
            : Heap.create({
                strategy,
                initialBytes: 8192,
                maxBytes: 1 << 20,
                slotSize: 48,
                cache: cache ?? false,
                ...(engine && { engine }),
              });
          const model = run(heap, sequence, strategy);
          for (const block of model.blocks) heap.free(block.ptr);
          heap.check();
          const stats = heap.stats();
          expect(stats.liveBlocks).toBe(0);
          expect(stats.used).toBe(0);
          if (strategy === "tlsf") expect(stats.freeBlocks).toBe(1);
          if (heap instanceof ArenaHeap) {
            heap.reset();
            expect(heap.mark()).toBe(heap.base + ArenaHeap.controlBytes);
          }
        }),
        fuzzParameters(60, 6001),
      );
    });

    it("reuses freed memory instead of growing", () => {
      const heap = Heap.fixed(16 * 1024, { strategy, slotSize: 48 });
      for (let round = 0; round < 1000; round++) {
        const p = heap.malloc(40);
        heap.free(p);
      }
      heap.check();
      expect(heap.stats().highWater).toBeLessThan(4096);
    });
  },
);

describe("debug heap against the model", () => {
  it("passes the same model with red zones and quarantine on", () => {
    fc.assert(
      fc.property(ops(2000), (sequence) => {
        const heap = Heap.create({ debug: true, initialBytes: 8192, maxBytes: 4 << 20 });
        const model = run(heap, sequence, "tlsf");
        for (const block of model.blocks) heap.free(block.ptr);
        heap.check();
        expect(heap.live()).toHaveLength(0);
      }),
      fuzzParameters(30, 3001),
    );
  });
});
