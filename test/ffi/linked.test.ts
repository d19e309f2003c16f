import { FaultInjector, HeapAllocator } from "memkit/fallible";
import { instantiateWithHeap } from "memkit/ffi";
import type { Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";
import { fixture, type JsonLib, loadLibcJson, makeDocument, roundtripWith } from "../../bench/ffi/json-fixture.js";
import { countJavaScriptCalls } from "../helpers/count-heap-calls.js";

// memkit's allocator compiled into a C library's own module (json-linked.wasm: json.c linked with
// src/heap/engine/tlsf.c built with -DMEMKIT_LINKED): C's malloc and free are plain calls inside
// the module, bound by instantiateWithHeap to the same heap TypeScript allocates from.

const linked = (options = {}) => instantiateWithHeap<JsonLib>(fixture("json-linked.wasm"), options);

/** Parses `text` in C and returns the tree (the source block stays allocated: free it). */
function parse(heap: Heap, c: JsonLib, text: string): { tree: number; src: number } {
  const bytes = Buffer.from(text);
  const src = heap.malloc(bytes.length);
  heap.u8.set(bytes, src);
  return { tree: c.json_parse(src, bytes.length), src };
}

describe("memkit's allocator compiled into the module", () => {
  it("is accepted (not a foreign allocator), gives the bytes the module's own malloc gives, and calls no JavaScript", async () => {
    const mod = await linked();
    const libc = await loadLibcJson();
    const js = countJavaScriptCalls(mod.heap);
    let jsBefore = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const { text, compact } = makeDocument(500 + seed * 200, seed);
      jsBefore = js.calls;
      expect(roundtripWith(mod.heap, mod.exports, text)).toBe(compact);
      // roundtripWith itself mallocs the input and frees the input and output: 3 calls, all C's are in the module.
      expect(js.calls - jsBefore).toBe(3);
      expect(roundtripWith(libc.host, libc.c, text)).toBe(compact);
    }
    expect(mod.heap.stats().liveBlocks).toBe(0);
    mod.heap.check();
  });

  it("a document several times the initial memory: the heap grows through JavaScript, C carries on in the module", async () => {
    const mod = await linked();
    const before = mod.memory.buffer.byteLength;
    const { text, compact } = makeDocument(2 << 20, 3);
    expect(roundtripWith(mod.heap, mod.exports, text)).toBe(compact);
    expect(mod.memory.buffer.byteLength).toBeGreaterThan(4 * before);
    const js = countJavaScriptCalls(mod.heap);
    expect(roundtripWith(mod.heap, mod.exports, text)).toBe(compact); // grown: no more growth
    expect(js.calls).toBe(3);
    expect(mod.heap.stats().liveBlocks).toBe(0);
    mod.heap.check();
  });

  it("a bad free in C is recorded, C carries on, the typed error comes out on return; the instance stays usable", async () => {
    const mod = await linked();
    // json_free twice: the second reads the node's fields from freed memory (a use after free in
    // C: the first word now holds a free-list link) and frees what it finds there.
    const { tree, src } = parse(mod.heap, mod.exports, "null");
    mod.exports.json_free(tree);
    let thrown: unknown;
    try {
      mod.exports.json_free(tree);
    } catch (error) {
      thrown = error;
    }
    expect(["ERR_MEMKIT_DOUBLE_FREE", "ERR_MEMKIT_INVALID_POINTER"]).toContain((thrown as { code: string }).code);
    expect((thrown as Error).message).toContain("(from C, during json_free())");
    mod.heap.free(src);
    const { text, compact } = makeDocument(4000, 9);
    expect(roundtripWith(mod.heap, mod.exports, text)).toBe(compact);
    mod.heap.check();
  });

  it("a stray write into the heap found by the allocator in the module is a HeapCorruptionError on return", async () => {
    const mod = await linked();
    const { tree, src } = parse(mod.heap, mod.exports, '{"first":"aaaaaaaaaaaaaaaa","second":"bbbbbbbbbbbbbbbb"}');
    // An overflow past the last block the tree uses, into the header of the free block after it:
    // freeing that last block must check its right neighbour, and refuse.
    const last = mod.heap.live().reduce((a, b) => (b.ptr > a.ptr ? b : a));
    const tail = last.ptr + last.size;
    const words = new Int32Array(mod.heap.buffer);
    words[(tail + 4) >> 2] = (words[(tail + 4) >> 2] as number) ^ 0x5a5a;
    expect(last.ptr).toBeGreaterThan(src);
    expect(() => mod.exports.json_free(tree)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_HEAP_CORRUPTION", offset: tail }),
    );
  });

  it("an allocator layer takes C's calls to JavaScript (a sweep sees them), and undefined gives them back", async () => {
    const mod = await linked();
    const { text, compact } = makeDocument(3000, 4);
    const faults = new FaultInjector(new HeapAllocator(mod.heap), { nth: 5, times: 1 });
    mod.useAllocator(faults);
    expect(() => roundtripWith(mod.heap, mod.exports, text)).toThrow(); // the fifth allocation failed in C
    expect(mod.failedAllocations).toBe(1);
    mod.useAllocator(undefined);
    const js = countJavaScriptCalls(mod.heap);
    expect(roundtripWith(mod.heap, mod.exports, text)).toBe(compact);
    expect(js.calls).toBe(3);
    expect(mod.heap.stats().liveBlocks).toBe(0);
  });

  it("with a debug heap (no engine) every call from C goes through JavaScript, and still works", async () => {
    const mod = await linked({ debug: true });
    const js = countJavaScriptCalls(mod.heap);
    const { text, compact } = makeDocument(3000, 5);
    expect(roundtripWith(mod.heap, mod.exports, text)).toBe(compact);
    expect(js.calls).toBeGreaterThan(100);
    mod.heap.check();
  });
});
