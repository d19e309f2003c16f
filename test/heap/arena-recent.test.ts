/**
 * The arena moves its top down only on out-of-band evidence (src/heap/arena-recent.ts): a stale
 * block header at the right address, whether written back by a buggy module or simply left in
 * reused memory, must not make the top drop below a live block. Found by the corruption fuzzer
 * (seed 118530: a mark inside a block grown in place over it).
 */
import { type ArenaHeap, Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";

function arena(): ArenaHeap {
  return Heap.fixed(64 * 1024, { strategy: "arena", zero: "none" }) as ArenaHeap;
}

function code(fn: () => unknown): string {
  try {
    return `returned ${String(fn())}`;
  } catch (error) {
    return (error as { code?: string }).code ?? `uncoded ${String(error)}`;
  }
}

/** A new block of `size` bytes at p must not overlap any of the held blocks. */
function expectClear(p: number, size: number, held: [number, number][]): void {
  for (const [q, n] of held) expect(p + size <= q || q + n <= p).toBe(true);
}

describe("arena: reset(mark) with a mark that is no longer a block boundary", () => {
  it("a block grown in place over a mark: reset refuses the mark, the block survives", () => {
    const heap = arena();
    const x = heap.malloc(7);
    heap.free(heap.malloc(62)); // the top rolls back; the freed header stays in memory
    const mark = heap.mark();
    expect(heap.realloc(x, 60)).toBe(x); // the newest block grows in place, over the mark
    expect(code(() => heap.reset(mark))).toBe("ERR_MEMKIT_INVALID_ARGUMENT"); // before: top dropped into x
    expectClear(heap.malloc(100), 100, [[x, 60]]);
    heap.check();
  });

  it("a mark laid over after the top rolled back below it: reset refuses it", () => {
    const heap = arena();
    const a = heap.malloc(16);
    const b = heap.malloc(16);
    const mark = heap.mark();
    heap.free(heap.malloc(8)); // a header at the mark, left in memory
    heap.free(b); // the top rolls back below the mark
    const c = heap.malloc(100); // spans the mark; its payload holds the old header
    expect(code(() => heap.reset(mark))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
    expectClear(heap.malloc(100), 100, [
      [a, 16],
      [c, 100],
    ]);
  });

  it("marks older than the last 8 are checked by a walk, and still work", () => {
    const heap = arena();
    const marks: number[] = [];
    const blocks: number[] = [];
    for (let i = 0; i < 12; i++) {
      marks.push(heap.mark());
      blocks.push(heap.malloc(24));
    }
    heap.reset(marks[2] as number);
    expect(heap.stats().liveBlocks).toBe(2);
    expect(heap.malloc(24)).toBe(blocks[2]);
    expect(code(() => heap.reset((marks[1] as number) + 8))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
    heap.check();
  });
});

describe("arena: a stale block header written back", () => {
  it("an older, larger block's live header over a smaller live block: free does not roll the top back over its neighbour", () => {
    const heap = arena();
    heap.malloc(16);
    const old = heap.malloc(100);
    const header = heap.u8.slice(old - 8, old);
    heap.free(old); // the top rolls back
    const b = heap.malloc(40);
    const c = heap.malloc(56); // b and c now span what the old block spanned
    expect(b).toBe(old);
    heap.u8.set(header, b - 8);
    heap.free(b); // before: the top rolled back to b, under the live c
    expectClear(heap.malloc(100), 100, [[c, 56]]);
  });

  it("an older, larger block's live header over a live block: realloc and usableSize do not trust its size", () => {
    const heap = arena();
    const a = heap.malloc(96);
    const header = heap.u8.slice(a - 8, a);
    expect(heap.realloc(a, 0)).toBe(a); // the newest block shrinks in place to 8 bytes
    const b = heap.malloc(3);
    const c = heap.malloc(68);
    heap.malloc(8); // a's claimed end (a + 96) now lies inside c, where no header starts
    heap.u8.set(header, a - 8);
    expect(code(() => heap.usableSize(a))).toBe("ERR_MEMKIT_HEAP_CORRUPTION"); // before: 96
    expect(code(() => heap.realloc(a, 39))).toBe("ERR_MEMKIT_HEAP_CORRUPTION"); // before: a, over b and c
    expect(heap.usableSize(b)).toBe(8);
    expect(heap.usableSize(c)).toBe(72);
  });

  it("after a reset, old headers left in memory no longer vouch for a stale copy of a larger header", () => {
    const heap = arena();
    const a = heap.malloc(800);
    heap.malloc(40, 4096); // an alignment filler's header right where a ends
    const header = heap.u8.slice(a - 8, a);
    heap.reset();
    expect(heap.malloc(0)).toBe(a); // a small block where a was
    const b = heap.malloc(55);
    heap.malloc(2000); // the top passes a's old end, which now lies inside this block
    heap.u8.set(header, a - 8); // a's old header: 800 bytes, ending at the old filler's header
    expect(code(() => heap.realloc(a, 38))).toBe("ERR_MEMKIT_HEAP_CORRUPTION"); // before: a, over b
    expect(heap.usableSize(b)).toBe(56);
  });

  it("a block dropped by a reset is still a double free, not a foreign pointer, when freed again", () => {
    const heap = arena();
    heap.malloc(8);
    const p = heap.malloc(8);
    heap.reset();
    heap.malloc(64); // the top passes p again: p is inside the new block
    expect(code(() => heap.free(p))).toBe("ERR_MEMKIT_DOUBLE_FREE");
  });

  it("the newest blocks still roll back in LIFO order, and realloc of the newest stays in place", () => {
    const heap = arena();
    const start = heap.mark();
    const blocks = Array.from({ length: 8 }, () => heap.malloc(32));
    for (const p of blocks.slice(1).reverse()) heap.free(p);
    expect(heap.mark()).toBe((blocks[1] as number) - 8);
    expect(heap.realloc(blocks[0] as number, 4096)).toBe(blocks[0]);
    heap.free(blocks[0] as number);
    expect(heap.mark()).toBe(start);
    heap.check();
  });
});
