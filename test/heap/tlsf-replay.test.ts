/**
 * TLSF against stale copies of free headers: a module that caches old memory and writes it back
 * puts a freed block's old header and encoded links over a block that is live again. The header and
 * links check out (they were real), so only state outside them can tell: the right neighbour's L
 * flag and the block's back pointer (its last word). Found by the corruption fuzzer (seeds 117759,
 * 600908). A copy that also covers those words (a block of 24 bytes or less) is not caught: see the
 * README's "Not covered".
 */
import { Heap, type TlsfHeap } from "memkit/heap";
import { describe, expect, it } from "vitest";

function outcome(fn: () => unknown): string {
  try {
    return `returned ${String(fn())}`;
  } catch (error) {
    return (error as { code?: string }).code ?? `uncoded ${String(error)}`;
  }
}

/** The 32 bytes from a block's header: header, tag and both encoded links. */
function copyAt(heap: TlsfHeap, ptr: number): () => void {
  const bytes = heap.u8.slice(ptr - 8, ptr + 24);
  return () => heap.u8.set(bytes, ptr - 8);
}

describe("TLSF and stale free headers written back", () => {
  it("a replayed free list never hands out a block the caller holds", () => {
    const heap = Heap.fixed(64 * 1024, { zero: "none" }) as TlsfHeap;
    const x = heap.malloc(64);
    heap.malloc(64); // keeps x and y from merging
    const y = heap.malloc(64);
    heap.malloc(64);
    heap.free(x);
    heap.free(y); // list: y -> x
    const restoreX = copyAt(heap, x);
    const restoreY = copyAt(heap, y);
    expect([heap.malloc(64), heap.malloc(64)].sort()).toEqual([x, y].sort());
    heap.free(y);
    restoreY(); // y is free: its old copy links on to x
    restoreX(); // x is live, but its old header says free
    expect(heap.malloc(64)).toBe(y);
    // Before the fix: x again, while the caller holds it.
    expect(outcome(() => heap.malloc(64))).toBe("ERR_MEMKIT_HEAP_CORRUPTION");
  });

  // Already caught before the L-flag check (release checks the merged neighbour): kept as a guard.
  it("a replayed free header cannot make free() merge a live neighbour into the block", () => {
    const heap = Heap.fixed(64 * 1024, { zero: "none" }) as TlsfHeap;
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    heap.malloc(64);
    heap.free(b);
    const restoreB = copyAt(heap, b);
    expect(heap.malloc(64)).toBe(b);
    restoreB(); // b is live; its old header says free
    // Freeing a merges with its right neighbour only if that neighbour really is free.
    expect(outcome(() => heap.free(a))).toBe("ERR_MEMKIT_HEAP_CORRUPTION");
    expect(outcome(() => heap.malloc(200))).not.toBe(`returned ${a}`);
  });
});
