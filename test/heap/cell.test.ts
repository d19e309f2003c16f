import { Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";

const types = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

describe("typed cells", () => {
  it.each(types.map((t) => [t.name, t] as const))("%s cell views exactly its block", (_name, type) => {
    const heap = Heap.fixed(64 * 1024);
    const cell = heap.alloc(type, 10);
    expect(cell.length).toBe(10);
    expect(cell.byteLength).toBe(10 * type.BYTES_PER_ELEMENT);
    expect(cell.view).toBeInstanceOf(type);
    expect(cell.view.length).toBe(10);
    expect(cell.view.byteOffset).toBe(cell.ptr);
    expect(cell.ptr % type.BYTES_PER_ELEMENT).toBe(0);
    cell.free();
    heap.check();
    expect(heap.stats().liveBlocks).toBe(0);
  });

  it("DataView cells count bytes", () => {
    const heap = Heap.fixed(8192);
    const cell = heap.alloc(DataView, 16);
    cell.view.setFloat64(8, 1.5, true);
    expect(cell.view.byteLength).toBe(16);
    expect(cell.view.getFloat64(8, true)).toBe(1.5);
    cell.free();
  });

  it("using frees at the end of the scope", () => {
    const heap = Heap.fixed(8192);
    {
      using v = heap.alloc(Float64Array, 100);
      v.view[0] = Math.PI;
      expect(heap.stats().liveBlocks).toBe(1);
    }
    expect(heap.stats().liveBlocks).toBe(0);
  });

  it("use after free and double free through a cell are typed errors, heap intact", () => {
    const heap = Heap.fixed(8192);
    const cell = heap.alloc(Uint32Array, 4);
    cell.free();
    expect(() => cell.view).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_USE_AFTER_FREE" }));
    expect(() => cell.free()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_USE_AFTER_FREE" }));
    expect(cell.freed).toBe(true);
    cell[Symbol.dispose](); // no error: disposal of a freed cell is a no-op
    heap.check();
  });

  it("a huge length is a typed error", () => {
    const heap = Heap.fixed(8192);
    expect(() => heap.alloc(Float64Array, 2 ** 40)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }),
    );
    expect(() => heap.alloc(Float64Array, -1)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }));
  });
});

describe("growth", () => {
  it.each([
    ["Heap.create (moves to a larger ArrayBuffer)", () => Heap.create({ initialBytes: 8192, maxBytes: 8 << 20 })],
    [
      "Heap.over a resizable ArrayBuffer (grows in place)",
      () => Heap.over(new ArrayBuffer(8192, { maxByteLength: 8 << 20 })),
    ],
    [
      "Heap.create shared (growable SharedArrayBuffer)",
      () => Heap.create({ shared: true, initialBytes: 8192, maxBytes: 8 << 20 }),
    ],
  ])("%s grows on demand; cells keep contents and views", (_name, make) => {
    const heap = make();
    const first = heap.alloc(Float64Array, 16);
    first.view.fill(2.5);
    const cells = [];
    for (let i = 0; i < 200; i++) cells.push(heap.alloc(Uint8Array, 1000).view.fill(i & 255));
    expect(heap.stats().capacity).toBeGreaterThan(200_000);
    expect([...first.view].every((x) => x === 2.5)).toBe(true);
    heap.check();
  });

  it("a heap over a WebAssembly.Memory grows it; views are re-created after the buffer detaches", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
    const heap = Heap.over(memory, { base: 1024 });
    const cell = heap.alloc(Int32Array, 8);
    cell.view.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const oldBuffer = memory.buffer;
    const big = heap.malloc(200_000);
    expect(memory.buffer).not.toBe(oldBuffer);
    expect(oldBuffer.byteLength).toBe(0); // detached
    expect([...cell.view]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    heap.u8[big + 199_999] = 1;
    heap.free(big);
    cell.free();
    heap.check();
  });

  it("a heap notices when the WebAssembly module grew the memory itself", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
    const heap = Heap.over(memory, { maxBytes: 4 * 65536 });
    memory.grow(1);
    const p = heap.malloc(100);
    expect(heap.buffer).toBe(memory.buffer);
    heap.free(p);
    heap.check();
  });

  it("stops at maxBytes with OutOfMemoryError", () => {
    const heap = Heap.create({ initialBytes: 8192, maxBytes: 64 * 1024 });
    expect(() => heap.malloc(100_000)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_OUT_OF_MEMORY" }));
    expect(heap.tryMalloc(30_000)).not.toBe(0);
    heap.check();
  });
});
