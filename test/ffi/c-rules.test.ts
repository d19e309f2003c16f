import { readFileSync } from "node:fs";
import { Budget, FaultInjector, HeapAllocator, sweepAllocations } from "memkit/fallible";
import { instantiateWithHeap, type WasmHeapOptions, writeCString } from "memkit/ffi";
import { describe, expect, it } from "vitest";
import { type Ownership, ownershipWasm } from "../helpers/ownership-fixture.js";

// C's rules inside C (every failed allocation is NULL, a bad free lets C carry on) and memkit's
// in JavaScript (the typed error is thrown when the call returns; the instance stays usable).

const json = readFileSync(new URL("../fixtures/wasm/json.wasm", import.meta.url));

interface Json {
  json_roundtrip(src: number, len: number): number;
  json_last_error(): number;
}

const load = (options: WasmHeapOptions = {}) => instantiateWithHeap<Ownership>(ownershipWasm, options);
const SIZE_MAX = 0xffff_ffff;
/** What the C functions compute when they run to the end (see double_free_in_big_frame). */
const frameSum = (n: number) => Array.from({ length: 16 }, (_, i) => (i * 4096 + 1) & 0xff).reduce((a, b) => a + b) + n;

describe("malloc, calloc and realloc called from C return NULL on every failure", () => {
  it("too large: SIZE_MAX, 2 GiB and more, and calloc/realloc overflows are NULL, never an exception", async () => {
    const { exports: c, heap } = await load();
    for (const size of [SIZE_MAX, 0x8000_0000, 0x7fff_ffff]) expect(c.allocate(size)).toBe(0);
    expect(c.allocate_zeroed(0x10000, 0x10001)).toBe(0);
    expect(c.allocate_zeroed(SIZE_MAX, 2)).toBe(0);
    const block = c.allocate(32);
    expect(c.resize(block, SIZE_MAX)).toBe(0);
    expect(c.resize(block, 0x8000_0000)).toBe(0);
    expect(c.resize(0, SIZE_MAX)).toBe(0);
    expect(heap.usableSize(block)).toBeGreaterThanOrEqual(32); // realloc's failure left it alone
    c.release(block);
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it("calloc from C zeroes what malloc does not (the module's heap does not zero every block)", async () => {
    const { exports: c, heap } = await load();
    const dirty = c.allocate(64);
    heap.u8.fill(0xaa, dirty, dirty + 64);
    c.release(dirty);
    const zeroed = c.allocate_zeroed(8, 8);
    expect(zeroed).toBe(dirty); // the same block again, so the zeroes are calloc's doing
    expect([...heap.u8.subarray(zeroed, zeroed + 64)].every((b) => b === 0)).toBe(true);
    c.release(zeroed);
  });

  it("out of memory: C fills the heap until malloc returns NULL, frees everything, and can do it again", async () => {
    const { exports: c, heap, failedAllocations } = await load({ maxBytes: 1 << 20 });
    expect(failedAllocations).toBe(0);
    const first = c.fill_until_null(1000);
    expect(first).toBeGreaterThan(500);
    expect(c.fill_until_null(1000)).toBe(first);
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it("an injected fault or a failing allocator layer is NULL for C, and counted", async () => {
    const mod = await load({ allocator: (heap) => new FaultInjector(new HeapAllocator(heap), { nth: 3 }) });
    const c = mod.exports;
    const got = [c.allocate(8), c.allocate(8), c.allocate(8), c.allocate(8)];
    expect(got.map((p) => p === 0)).toEqual([false, false, true, false]);
    expect(mod.failedAllocations).toBe(1);
    for (const p of got) c.release(p); // free(NULL) does nothing
    expect(mod.heap.stats().liveBlocks).toBe(0);
    mod.useAllocator(undefined);
    expect(c.allocate(8)).not.toBe(0);
  });

  it("over a budget is NULL for C: C stops at the budget, frees what it took, and the budget is whole again", async () => {
    const mod = await load();
    const budget = new Budget(new HeapAllocator(mod.heap), { hardBytes: 10_000 });
    mod.useAllocator(budget);
    const fitted = mod.exports.fill_until_null(100);
    expect(fitted).toBeGreaterThan(50);
    expect(fitted).toBeLessThanOrEqual(100);
    expect(budget.lastError).toMatchObject({ code: "ERR_MEMKIT_ALLOC_FAILED", kind: "budget" });
    expect(budget.usedBytes).toBe(0);
    expect(mod.exports.fill_until_null(100)).toBe(fitted);
  });

  it("an allocator layer must sit over the module's own heap", async () => {
    const one = await load();
    const other = await load();
    expect(() => one.useAllocator(new HeapAllocator(other.heap))).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
    );
  });
});

describe("a bad free from C: recorded, C carries on, the error is thrown when control returns", () => {
  it("16 double frees inside a 64 KiB frame: C runs to the end, DoubleFreeError comes out, the next call works", async () => {
    const { exports: c, heap } = await load();
    let thrown: unknown;
    try {
      c.double_free_in_big_frame(16);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "ERR_MEMKIT_DOUBLE_FREE" });
    // The other 15 are kept on the first, not lost.
    expect((thrown as { suppressed: { code: string }[] }).suppressed.map((e) => e.code)).toEqual(
      Array(15).fill("ERR_MEMKIT_DOUBLE_FREE"),
    );
    for (let i = 0; i < 40; i++) expect(() => c.double_free_in_big_frame(3)).toThrow();
    expect(c.double_free_in_big_frame(0)).toBe(frameSum(0));
    expect(c.take_string(writeCString(heap, "still usable"))).toBe(12);
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it('policy "trap" throws from free at once; memkit restores C\'s stack, so the instance stays usable', async () => {
    const { exports: c, heap } = await load({ onCError: "trap" });
    for (let i = 0; i < 40; i++)
      expect(() => c.double_free_in_big_frame(16)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_DOUBLE_FREE" }));
    expect(c.double_free_in_big_frame(0)).toBe(frameSum(0));
    expect(c.take_string(writeCString(heap, "still usable"))).toBe(12);
    heap.check();
  });

  it("a trap (abort) inside a 64 KiB frame, 40 times: C's stack is restored each time", async () => {
    const { exports: c } = await load();
    for (let i = 0; i < 40; i++) expect(() => c.trap_in_big_frame(1)).toThrow(/unreachable/);
    expect(c.double_free_in_big_frame(0)).toBe(frameSum(0));
  });
});

describe("fallible sweeps run through C code", () => {
  it("every allocation of a JSON round trip in C fails once: C returns NULL, frees what it built, nothing leaks", async () => {
    const mod = await instantiateWithHeap<Json>(json, { zero: "none" });
    const text = '{"name":"memkit","tags":["heap","ffi"],"n":[1,2.5,-3e2],"ok":true,"none":null}';
    const report = await sweepAllocations(
      (alloc) => {
        mod.useAllocator(alloc);
        const src = writeCString(mod.heap, text);
        try {
          const out = mod.exports.json_roundtrip(src, text.length);
          // C reports out-of-memory as NULL + JSON_NOMEM (2): the scenario reports it as the AllocError.
          if (out === 0) throw mod.exports.json_last_error() === 2 ? alloc.lastError : new Error("syntax error");
          const result = Buffer.from(mod.heap.u8.subarray(out, mod.heap.u8.indexOf(0, out))).toString();
          mod.heap.free(out);
          return result;
        } finally {
          mod.heap.free(src);
          mod.useAllocator(undefined);
        }
      },
      { heap: () => mod.heap },
    );
    expect(report.allocations).toBeGreaterThan(20);
    // Each failure surfaced as the injected AllocError: no NULL was missed, nothing leaked, heap intact.
    expect(report.runs.map((r) => r.outcome)).toEqual(Array(2 * report.allocations).fill("alloc-error"));
    expect(report.ok).toBe(true);
    expect(mod.heap.stats().liveBlocks).toBe(0);
  });
});
