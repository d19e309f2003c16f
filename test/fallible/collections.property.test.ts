import fc from "fast-check";
import { FaultInjector, HeapAllocator, HeapIntMap, HeapVec } from "memkit/fallible";
import { Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../helpers/fuzz-parameters.js";

const injected = (seed: number) =>
  new FaultInjector(new HeapAllocator(Heap.create({ initialBytes: 8192, maxBytes: 4 << 20 })), {
    probability: 0.2,
    seed,
  });

describe("HeapVec against a JS Array, with 20% of allocations failing", () => {
  it("tryPush/tryReserve either succeed or leave the vector unchanged", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.array(fc.oneof(fc.double({ noNaN: true }), fc.constant(-1)), { maxLength: 300 }),
        (seed, ops) => {
          const alloc = injected(seed);
          const vec = new HeapVec(alloc, Float64Array);
          const model: number[] = [];
          for (const op of ops) {
            const before = { length: vec.length, capacity: vec.capacity };
            if (op === -1) {
              const reserved = vec.tryReserve(50);
              if (!reserved) expect({ length: vec.length, capacity: vec.capacity }).toEqual(before);
            } else if (vec.tryPush(op)) model.push(op);
            else {
              expect(vec.lastError?.kind).toBe("injected");
              expect(vec.length).toBe(before.length);
            }
            expect(vec.toArray()).toEqual(model);
          }
          vec.free();
          alloc.heap.check();
          expect(alloc.heap.stats().liveBlocks).toBe(0);
        },
      ),
      fuzzParameters(40, 4001),
    );
  });

  it("bigint element types work and capacity overflow is reported", () => {
    const vec = new HeapVec(new HeapAllocator(Heap.create()), BigInt64Array);
    vec.push(2n ** 62n);
    expect(vec.get(0)).toBe(2n ** 62n);
    expect(vec.tryReserve(2 ** 40)).toBe(false);
    expect(vec.lastError?.kind).toBe("capacity-overflow");
    expect(vec.pop()).toBe(2n ** 62n);
    expect(vec.pop()).toBeUndefined();
  });
});

describe("HeapIntMap against a JS Map, with 20% of allocations failing", () => {
  it("tryInsert/delete/get agree with the model; failures change nothing", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("insert" as const),
        key: fc.integer({ min: 0, max: 300 }),
        value: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      }),
      fc.record({ kind: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.array(op, { maxLength: 400 }), (seed, ops) => {
        const alloc = injected(seed);
        const map = new HeapIntMap(alloc, Uint32Array);
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === "insert") {
            if (map.tryInsert(o.key, o.value)) model.set(o.key, o.value);
            else expect(map.lastError?.kind).toBe("injected");
          } else expect(map.delete(o.key)).toBe(model.delete(o.key));
          expect(map.size).toBe(model.size);
        }
        for (let key = 0; key <= 300; key++) expect(map.get(key)).toBe(model.get(key));
        expect(new Map(map.entries())).toEqual(model);
        map.free();
        alloc.heap.check();
        expect(alloc.heap.stats().liveBlocks).toBe(0);
      }),
      fuzzParameters(40, 4002),
    );
  });

  it("keys must be u32", () => {
    const map = new HeapIntMap(new HeapAllocator(Heap.create()), Float64Array);
    expect(map.tryInsert(-1, 1)).toBe(false);
    expect(map.tryInsert(1.5, 1)).toBe(false);
    expect(map.get(-1)).toBeUndefined();
    expect(map.tryInsert(2 ** 32 - 1, 0.5)).toBe(true);
    expect(map.get(2 ** 32 - 1)).toBe(0.5);
  });
});
