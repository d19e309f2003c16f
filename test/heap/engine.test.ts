/**
 * The WebAssembly engine (src/heap/engine/tlsf.c) against the TypeScript hot paths it replaces:
 * two heaps with the same secret over two WebAssembly memories, one run by each, get the same
 * operations (and the same stray writes); every result, every error (class, offset, message) and
 * every byte of the two memories must be equal after every step.
 */
import fc from "fast-check";
import { Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../helpers/fuzz-parameters.js";

type Op =
  | { kind: "malloc"; size: number }
  | { kind: "calloc"; count: number; size: number }
  | { kind: "aligned"; size: number; alignLog: number }
  | { kind: "free"; pick: number }
  | { kind: "realloc"; pick: number; size: number }
  | { kind: "fill"; pick: number; byte: number }
  | { kind: "stray"; at: number; value: number }
  | { kind: "staleFree"; pick: number };

const size = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0, max: 600 }),
  fc.integer({ min: 0, max: 40_000 }),
);
const pick = fc.nat();
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("malloc" as const), size }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("calloc" as const),
      count: fc.integer({ min: 0, max: 40 }),
      size: fc.integer({ min: 0, max: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("aligned" as const), size, alignLog: fc.integer({ min: 4, max: 12 }) }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("free" as const), pick }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("realloc" as const), pick, size }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("fill" as const), pick, byte: fc.integer({ min: 1, max: 255 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("staleFree" as const), pick }) },
);
const stray: fc.Arbitrary<Op> = fc.record({ kind: fc.constant("stray" as const), at: fc.nat(), value: fc.integer() });

interface Pair {
  readonly wasm: Heap;
  readonly ts: Heap;
  readonly live: number[];
  readonly freed: number[];
}

function pair(zero: "alloc" | "none" | "free"): Pair {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
  const wasm = Heap.over(memory, { base: 256, zero, growthHeadroom: 4096 });
  const copy = new WebAssembly.Memory({ initial: 1, maximum: 64 });
  new Uint8Array(copy.buffer).set(new Uint8Array(memory.buffer));
  const ts = Heap.attach(copy, { base: 256, engine: "typescript", growthHeadroom: 4096 });
  return { wasm, ts, live: [], freed: [] };
}

/** What a call did: its result, or its error's class, code, message and offset. */
function outcome(run: () => number | undefined): unknown {
  try {
    return { value: run() };
  } catch (error) {
    const e = error as Error & { code?: string; offset?: number };
    return { error: e.constructor.name, code: e.code, message: e.message, offset: e.offset };
  }
}

function step(p: Pair, o: Op): void {
  const both = (f: (heap: Heap) => number | undefined): number | undefined => {
    const a = outcome(() => f(p.wasm));
    const b = outcome(() => f(p.ts));
    expect(a, JSON.stringify(o)).toEqual(b);
    expect(Buffer.compare(new Uint8Array(p.wasm.buffer), new Uint8Array(p.ts.buffer))).toBe(0);
    return (a as { value?: number }).value;
  };
  const take = (i: number): number | undefined =>
    p.live.length === 0 ? undefined : p.live.splice(i % p.live.length, 1)[0];
  switch (o.kind) {
    case "malloc":
    case "calloc":
    case "aligned": {
      const ptr = both((heap) =>
        o.kind === "malloc"
          ? heap.tryMalloc(o.size)
          : o.kind === "calloc"
            ? heap.calloc(o.count, o.size)
            : heap.tryMalloc(o.size, 1 << o.alignLog),
      );
      if (typeof ptr === "number" && ptr !== 0) p.live.push(ptr);
      return;
    }
    case "free": {
      const ptr = take(o.pick);
      if (ptr === undefined) return;
      both((heap) => {
        heap.free(ptr);
        return undefined;
      });
      p.freed.push(ptr);
      return;
    }
    case "staleFree": {
      // A double free, or a free of a pointer whose block was reused or merged since.
      const ptr = p.freed[o.pick % Math.max(1, p.freed.length)] ?? 8;
      both((heap) => {
        heap.free(ptr);
        return undefined;
      });
      return;
    }
    case "realloc": {
      const ptr = take(o.pick);
      if (ptr === undefined) return;
      const moved = both((heap) => heap.realloc(ptr, o.size));
      p.live.push(typeof moved === "number" ? moved : ptr);
      return;
    }
    case "fill": {
      const ptr = p.live[o.pick % Math.max(1, p.live.length)];
      if (ptr === undefined) return;
      both((heap) => {
        heap.u8.fill(o.byte, ptr, ptr + heap.usableSize(ptr));
        return undefined;
      });
      return;
    }
    case "stray": {
      // The same stray word in both memories, near the heap's blocks.
      const end = Math.min(p.wasm.buffer.byteLength, 256 + 64 * 1024);
      const at = (256 + (o.at % (end - 256))) & ~3;
      new DataView(p.wasm.buffer).setInt32(at, o.value, true);
      new DataView(p.ts.buffer).setInt32(at, o.value, true);
      return;
    }
  }
}

describe("the WebAssembly TLSF engine", () => {
  it("is the engine of a TLSF heap over a WebAssembly.Memory, and engine: 'typescript' turns it off", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const c = { malloc: () => 0, free: () => {}, calloc: () => 0, realloc: () => 0 };
    expect(Heap.over(memory).wasmAllocator(c, () => {})).toBeDefined();
    expect(
      Heap.over(new WebAssembly.Memory({ initial: 1 }), { engine: "typescript" }).wasmAllocator(c, () => {}),
    ).toBeUndefined();
    expect(
      Heap.over(new WebAssembly.Memory({ initial: 1 }), { debug: true }).wasmAllocator(c, () => {}),
    ).toBeUndefined();
    expect(
      Heap.over(new WebAssembly.Memory({ initial: 1 }), { strategy: "arena" }).wasmAllocator(c, () => {}),
    ).toBeUndefined();
    // Heap.create and Heap.fixed (from one 64 KiB page) give a TLSF heap a WebAssembly memory, so it runs the engine.
    expect(Heap.create().memory).toBeInstanceOf(WebAssembly.Memory);
    expect(Heap.create().wasmAllocator(c, () => {})).toBeDefined();
    expect(Heap.fixed(1 << 16).wasmAllocator(c, () => {})).toBeDefined();
    expect(Heap.fixed(4096).memory).toBeInstanceOf(ArrayBuffer);
    for (const options of [{ engine: "typescript" }, { debug: true }, { cache: true }, { strategy: "pool" }] as const) {
      expect(Heap.create(options).memory).toBeInstanceOf(ArrayBuffer);
      expect(Heap.create(options).wasmAllocator(c, () => {})).toBeUndefined();
    }
    expect(() => Heap.over(new WebAssembly.Memory({ initial: 1 }), { engine: "asm" as "wasm" })).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
    );
  });

  it("Heap.create and Heap.fixed fall back to an ArrayBuffer when no WebAssembly memory can be made", () => {
    const real = WebAssembly.Memory;
    (WebAssembly as { Memory: unknown }).Memory = class {
      constructor() {
        throw new RangeError("WebAssembly.Memory(): could not allocate memory");
      }
    };
    try {
      for (const heap of [Heap.create(), Heap.fixed(1 << 20)]) {
        expect(heap.memory).toBeInstanceOf(ArrayBuffer);
        heap.free(heap.malloc(100));
        heap.check();
      }
    } finally {
      (WebAssembly as { Memory: unknown }).Memory = real;
    }
  });

  it("names a double free in memory another heap object's growth brought in (the cold path sees the new end too)", () => {
    const a = Heap.create({ initialBytes: 64 * 1024, maxBytes: 8 << 20 });
    a.free(a.malloc(16)); // a's engine and views are warm
    const b = Heap.attach(a.memory);
    const big = b.malloc(1 << 20); // b grows the memory; a has not run since
    const late = b.malloc(64 << 10);
    expect(late).toBeGreaterThan(1 << 20);
    b.free(late);
    expect(() => a.free(late)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_DOUBLE_FREE" }));
    b.free(big);
    a.check();
  });

  it("never writes outside the heap's own memory (its state lives in WebAssembly globals, not in memory)", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 8 });
    new Uint8Array(memory.buffer).fill(0xaa, 0, 4096);
    const heap = Heap.over(memory, { base: 4096 });
    const c = { malloc: () => 0, free: () => {}, calloc: () => 0, realloc: () => 0 };
    const cEntry = heap.wasmAllocator(c, () => {});
    const blocks = Array.from({ length: 300 }, (_, i) => heap.malloc(1 + ((i * 53) % 2000)));
    for (let i = 0; i < blocks.length; i += 2) heap.free(blocks[i] as number);
    for (let i = 1; i < blocks.length; i += 2) heap.free(heap.realloc(blocks[i] as number, 3000));
    cEntry?.free(cEntry.realloc(cEntry.calloc(3, 5), 100));
    expect(() => heap.free(8)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_POINTER" }));
    expect(new Uint8Array(memory.buffer, 0, 4096).every((b) => b === 0xaa)).toBe(true);
    heap.check();
  });

  it("follows the heap's end when another heap object over the same memory grows it, or a restore moves it", () => {
    const a = Heap.create({ initialBytes: 64 * 1024, maxBytes: 8 << 20 });
    const b = Heap.attach(a.memory);
    const early = a.snapshot();
    const kept = a.malloc(100);
    const big = b.malloc(1 << 20); // b grows the memory: a's engine must not use its old end
    expect(a.buffer.byteLength).toBeGreaterThan(1 << 20);
    const blocks = Array.from({ length: 200 }, (_, i) => a.malloc(1000 + i));
    for (const p of blocks) a.free(p);
    expect(a.realloc(kept, 5000)).toBeGreaterThan(0);
    b.free(big);
    a.check();
    b.check();
    a.restore(early); // the end (and everything else) as it was
    const again = Array.from({ length: 100 }, () => a.malloc(4000));
    for (const p of again) a.free(p);
    a.check();
    expect(a.stats().liveBlocks).toBe(0);
  });

  for (const zero of ["alloc", "none", "free"] as const) {
    it(`leaves the same bytes, results and errors as the TypeScript hot paths (zero: "${zero}")`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
          const p = pair(zero);
          for (const o of ops) step(p, o);
          while (p.live.length > 0) step(p, { kind: "free", pick: 0 });
          p.wasm.check();
          p.ts.check();
        }),
        fuzzParameters(40, 11),
      );
    });
  }

  it("fails the same way as the TypeScript hot paths after stray writes into the heap", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 12, arbitrary: op }, { weight: 1, arbitrary: stray }), { maxLength: 300 }),
        (ops) => {
          const p = pair("alloc");
          for (const o of ops) step(p, o);
        },
      ),
      fuzzParameters(150, 12),
    );
  });
});
