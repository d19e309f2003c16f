import { readFileSync } from "node:fs";
import { FaultInjector, HeapAllocator } from "memkit/fallible";
import { instantiateWithHeap } from "memkit/ffi";
import { describe, expect, it } from "vitest";
import { countJavaScriptCalls } from "../helpers/count-heap-calls.js";
import { type Ownership, ownershipWasm } from "../helpers/ownership-fixture.js";

// C's malloc/free/calloc/realloc go straight to the heap's WebAssembly engine (no JavaScript on
// the way); JavaScript runs only for what the engine hands back, with C's rules.

const oddMalloc = readFileSync(new URL("../fixtures/wasm/odd-malloc.wasm", import.meta.url));

describe("C's allocations run in the heap's WebAssembly engine", () => {
  it("malloc, calloc, realloc and free from C call no JavaScript, and leave a heap that checks out", async () => {
    const { exports: c, heap } = await instantiateWithHeap<Ownership>(ownershipWasm);
    const js = countJavaScriptCalls(heap);
    const blocks: number[] = [];
    for (let i = 0; i < 200; i++) blocks.push(c.allocate(1 + ((i * 37) % 300)));
    for (let i = 0; i < 200; i += 3) blocks[i] = c.resize(blocks[i] as number, 400 + i);
    blocks.push(c.allocate_zeroed(10, 10));
    for (const p of blocks) c.release(p);
    expect(js.calls).toBe(0);
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it("growth goes through JavaScript, and the engine then serves the grown heap", async () => {
    const { exports: c, heap, memory } = await instantiateWithHeap<Ownership>(ownershipWasm);
    const js = countJavaScriptCalls(heap);
    const before = memory.buffer.byteLength;
    const big = c.allocate(4 << 20);
    expect(big).not.toBe(0);
    expect(memory.buffer.byteLength).toBeGreaterThan(before);
    expect(js.calls).toBe(1); // the one allocation that needed the heap to grow
    const small = Array.from({ length: 100 }, () => c.allocate(24));
    for (const p of [...small, big]) c.release(p);
    expect(js.calls).toBe(1);
    heap.check();
  });

  it("an allocator layer (useAllocator) takes C's calls back to JavaScript, and undefined returns them to the engine", async () => {
    const mod = await instantiateWithHeap<Ownership>(ownershipWasm);
    const faults = new FaultInjector(new HeapAllocator(mod.heap), { nth: 2, times: 1 });
    mod.useAllocator(faults);
    expect(mod.exports.allocate(16)).not.toBe(0);
    expect(mod.exports.allocate(16)).toBe(0); // the injected fault: the layer is in the path
    mod.useAllocator(undefined);
    const js = countJavaScriptCalls(mod.heap);
    mod.exports.release(mod.exports.allocate(16));
    expect(js.calls).toBe(0);
  });

  it("a corrupt heap found by the engine during a call from C is recorded; C carries on; thrown on return", async () => {
    const { exports: c, heap } = await instantiateWithHeap<Ownership>(ownershipWasm);
    const left = c.allocate(32);
    const right = c.allocate(32);
    // A stray write into the right neighbour's header: freeing `left` must check it, and refuse.
    new DataView(heap.u8.buffer).setInt32(right - 4, 0x1234567, true);
    let thrown: unknown;
    try {
      c.release(left);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "ERR_MEMKIT_HEAP_CORRUPTION", offset: right - 8 });
    expect((thrown as Error).message).toContain("(from C, during release())");
  });

  it('under onCError: "trap" the engine\'s error is thrown at once', async () => {
    const { exports: c, heap } = await instantiateWithHeap<Ownership>(ownershipWasm, { onCError: "trap" });
    const left = c.allocate(32);
    const right = c.allocate(32);
    new DataView(heap.u8.buffer).setInt32(right - 4, 0x1234567, true);
    expect(() => c.release(left)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_HEAP_CORRUPTION" }));
  });

  it("a module whose malloc has another signature than C's on wasm32 is served JavaScript functions", async () => {
    // odd-malloc.wat imports free as (i32) -> i32: a WebAssembly function of C's type cannot be
    // linked to it, a JavaScript one can.
    const { exports, heap } = await instantiateWithHeap<{ grab(n: number): number; drop(p: number): number }>(
      oddMalloc,
    );
    const p = exports.grab(24);
    expect(heap.usableSize(p)).toBeGreaterThanOrEqual(24);
    exports.drop(p);
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });
});
