import { instantiateWithHeap, Owned, readCString, takeCString, writeCString } from "memkit/ffi";
import { describe, expect, it } from "vitest";
import { type Ownership, ownershipWasm } from "../helpers/ownership-fixture.js";

/** The C functions of test/fixtures/wasm/ownership.c. */

async function load(options = {}) {
  const mod = await instantiateWithHeap<Ownership>(ownershipWasm, options);
  return { ...mod, e: mod.exports };
}

describe("a C module compiled to WebAssembly sharing one memkit heap", () => {
  it("the heap starts at __heap_base, above the module's data and stack", async () => {
    const { heap, memory } = await load();
    expect(heap.base).toBeGreaterThan(0);
    expect(heap.buffer).toBe(memory.buffer);
    heap.check();
  });

  it("TypeScript allocates, C frees: 20,000 round trips leave no live block", async () => {
    const { heap, e } = await load();
    for (let i = 0; i < 20_000; i++) {
      const text = `string number ${i} ✓`;
      expect(e.take_string(writeCString(heap, text))).toBe(Buffer.byteLength(text));
    }
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it("C allocates, TypeScript frees: 20,000 round trips leave no live block", async () => {
    const { heap, e } = await load();
    const name = writeCString(heap, "wörld");
    for (let i = 0; i < 20_000; i++) expect(takeCString(heap, e.make_greeting(name))).toBe("Hello, wörld!");
    heap.free(name);
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it("C builds and frees a linked structure with calloc/realloc/free", async () => {
    const { heap, e } = await load();
    expect(e.build_list(1000)).toBe((999 * 1000) / 2);
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it("a double free in C surfaces as the heap's typed error and the heap stays intact", async () => {
    const { heap, e } = await load();
    const before = heap.stats().liveBlocks;
    expect(() => e.free_twice()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_DOUBLE_FREE" }));
    heap.check();
    expect(heap.stats().liveBlocks).toBe(before);
  });

  it("an invalid free in C surfaces as InvalidPointerError; only the block C lost stays live", async () => {
    const { heap, e } = await load();
    expect(() => e.free_inside()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_POINTER" }));
    heap.check();
    const [lost] = heap.live();
    expect(heap.live()).toHaveLength(1);
    heap.free(lost?.ptr as number);
    heap.check();
  });

  it("memory.grow during use: views are re-created, strings and handles stay valid", async () => {
    const { heap, e, memory } = await load();
    const kept = Owned.cString(heap, "kept across growth");
    const before = memory.buffer.byteLength;
    const big = e.allocate(8 * 1024 * 1024);
    expect(big).not.toBe(0);
    expect(memory.buffer.byteLength).toBeGreaterThan(before);
    expect(readCString(heap, kept.ptr)).toBe("kept across growth");
    expect(e.take_string(kept.intoRaw())).toBe(18);
    heap.free(big);
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it("malloc from C returns NULL when the heap cannot grow further", async () => {
    const { heap, e } = await load();
    expect(e.allocate(0x7fff_0000)).toBe(0);
    heap.check();
  });
});

describe("Owned handles move like Box::into_raw/from_raw", () => {
  it("intoRaw empties the handle; every later use is MovedError; dispose does nothing", async () => {
    const { heap, e } = await load();
    const owned = Owned.cString(heap, "moved");
    expect(owned.isOwned).toBe(true);
    expect(e.take_string(owned.intoRaw())).toBe(5);
    expect(owned.isOwned).toBe(false);
    expect(() => owned.ptr).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_MOVED" }));
    expect(() => owned.intoRaw()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_MOVED" }));
    expect(() => owned.free()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_MOVED" }));
    owned[Symbol.dispose]();
    expect(heap.stats().liveBlocks).toBe(0);
  });

  it("fromRaw takes ownership of C's result and a using scope frees it", async () => {
    const { heap, e } = await load();
    const name = Owned.cString(heap, "scope");
    {
      using greeting = Owned.fromRaw(heap, e.make_greeting(name.ptr));
      expect(readCString(heap, greeting.ptr)).toBe("Hello, scope!");
      expect(heap.stats().liveBlocks).toBe(2);
    }
    name.free();
    expect(heap.stats().liveBlocks).toBe(0);
    expect(() => Owned.fromRaw(heap, 0)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_POINTER" }));
    expect(() => Owned.fromRaw(heap, 12345)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_POINTER" }));
  });

  it("fromRaw refuses what it cannot own: an owned pointer, a freed one, a non-integer, NULL", async () => {
    const { heap, e } = await load();
    const name = Owned.cString(heap, "x");
    const raw = e.make_greeting(name.ptr);
    const owned = Owned.fromRaw(heap, raw);
    expect(() => Owned.fromRaw(heap, raw)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_ALREADY_OWNED" }));
    expect(() => Owned.fromRaw(heap, name.ptr)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_ALREADY_OWNED" }));
    owned.free();
    expect(() => Owned.fromRaw(heap, raw)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_USE_AFTER_FREE" }));
    for (const bad of [0, -8, 1.5, Number.NaN, "16" as unknown as number])
      expect(() => Owned.fromRaw(heap, bad)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_POINTER" }));
    // Moved out with intoRaw(), it may be owned again (C handed it back).
    const back = Owned.fromRaw(heap, name.intoRaw());
    back.free();
    expect(heap.stats().liveBlocks).toBe(0);
  });

  it("C strings: NUL inside is refused; reading NULL or an unterminated run is a typed error", async () => {
    const { heap } = await load();
    expect(() => writeCString(heap, "a\0b")).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }));
    expect(() => readCString(heap, 0)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }));
    const p = heap.malloc(4);
    heap.u8.fill(65, p, p + 4);
    expect(() => readCString(heap, p, 4)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }));
    expect(takeCString(heap, 0)).toBeUndefined();
  });

  it("a module without memory or __heap_base is refused with a typed error", async () => {
    const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    await expect(instantiateWithHeap(empty)).rejects.toMatchObject({ code: "ERR_MEMKIT_FOREIGN_MODULE" });
  });
});
