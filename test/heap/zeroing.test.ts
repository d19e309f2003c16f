/**
 * zero: "alloc" (the default) pays only for reused bytes: memory above the clean mark was never
 * handed out and is not zeroed again. These cases dirty every byte a block could come from, then
 * check that every path handing bytes to the program zeroes exactly what the program did not write.
 */

import { Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";

function allZero(heap: Heap, from: number, to: number): boolean {
  return heap.u8.subarray(from, to).every((b) => b === 0);
}

function all(heap: Heap, from: number, to: number, value: number): boolean {
  return heap.u8.subarray(from, to).every((b) => b === value);
}

describe('zero: "alloc" on reused memory', () => {
  it("realloc growing in place over a dirty freed neighbour zeroes the new part and keeps the old", () => {
    const heap = Heap.fixed(1 << 16);
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    const c = heap.malloc(64);
    for (const p of [a, b, c]) heap.u8.fill(0xaa, p, p + 64);
    heap.free(b);
    expect(heap.realloc(a, 120)).toBe(a);
    expect(all(heap, a, a + 64, 0xaa)).toBe(true);
    expect(allZero(heap, a + 64, a + 120)).toBe(true);
    heap.check();
  });

  it("realloc that moves into dirty memory zeroes what the copy does not cover", () => {
    for (const size of [100, 600]) {
      const heap = Heap.fixed(1 << 16);
      const big = heap.malloc(1024);
      const x = heap.malloc(64);
      heap.malloc(64); // keeps x from growing in place
      heap.u8.fill(0xbb, big, big + 1024);
      heap.u8.fill(0xaa, x, x + 64);
      heap.free(big);
      const moved = heap.realloc(x, size);
      expect(moved).toBe(big);
      expect(all(heap, moved, moved + 64, 0xaa)).toBe(true);
      expect(allZero(heap, moved + 64, moved + size)).toBe(true);
      heap.check();
    }
  });

  it("malloc of dirty blocks of every size class up to 4 KiB returns zeros", () => {
    const heap = Heap.fixed(1 << 20);
    for (let size = 8; size <= 4096; size += size < 256 ? 8 : 248) {
      const p = heap.malloc(size);
      heap.u8.fill(0xcc, p, p + size);
      heap.free(p);
      const q = heap.malloc(size);
      expect(allZero(heap, q, q + size)).toBe(true);
      heap.u8.fill(0xcc, q, q + size);
      heap.free(q);
    }
    heap.check();
  });

  it("growth into memory never handed out reads as zeros, and the metadata left there does not show", () => {
    const heap = Heap.create({ initialBytes: 1 << 16, maxBytes: 1 << 22 });
    let p = heap.malloc(16);
    for (let size = 32; size <= 1 << 20; size *= 2) {
      heap.u8.fill(0xdd, p, p + size / 2);
      p = heap.realloc(p, size);
      expect(all(heap, p, p + size / 2, 0xdd)).toBe(true);
      expect(allZero(heap, p + size / 2, p + size)).toBe(true);
    }
    heap.check();
  });
});
