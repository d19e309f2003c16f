/**
 * The pool's occupancy map (src/heap/pool-map.ts): stale copies of slot headers and links, written
 * back over slots that changed state since, must never make the pool hand out a live slot or free
 * one twice. Found by the corruption fuzzer (seed 34613).
 */
import { Heap, type PoolHeap } from "memkit/heap";
import { describe, expect, it } from "vitest";

const CORRUPT = "ERR_MEMKIT_HEAP_CORRUPTION";

/** The code of what `fn` throws, or "returned <value>" when it does not throw. */
function outcome(fn: () => unknown): string {
  try {
    return `returned ${String(fn())}`;
  } catch (error) {
    return (error as { code?: string }).code ?? `uncoded ${String(error)}`;
  }
}

function pool(slotSize = 64, bytes = 64 * 1024): PoolHeap {
  return Heap.fixed(bytes, { strategy: "pool", slotSize, zero: "none" }) as PoolHeap;
}

/** The 32 bytes from a slot's header: what a module caching old memory would write back. */
function copyAt(heap: PoolHeap, ptr: number): { at: number; bytes: Uint8Array } {
  return { at: ptr - 8, bytes: heap.u8.slice(ptr - 8, ptr + 24) };
}

function writeBack(heap: PoolHeap, copy: { at: number; bytes: Uint8Array }): void {
  heap.u8.set(copy.bytes, copy.at);
}

/**
 * Slots a, b, c freed in that order (list c -> b -> a) and copied while free; all three taken again;
 * c freed. Then the stale copies of c (link to b) and b (freed header) are written back: the list
 * now leads from c to b, which the caller holds.
 */
function replayedChain(): { heap: PoolHeap; b: number; c: number } {
  const heap = pool();
  const [a, b, c] = [heap.malloc(64), heap.malloc(64), heap.malloc(64)];
  heap.free(a);
  heap.free(b);
  heap.free(c);
  const [oldB, oldC] = [copyAt(heap, b), copyAt(heap, c)];
  expect([heap.malloc(64), heap.malloc(64), heap.malloc(64)]).toEqual([c, b, a]);
  heap.free(c);
  writeBack(heap, oldC);
  writeBack(heap, oldB);
  return { heap, b, c };
}

describe("pool: stale slot headers written back", () => {
  it("a replayed chain of free headers never makes malloc return a live slot", () => {
    const { heap, b, c } = replayedChain();
    expect(heap.malloc(64)).toBe(c); // c is really free
    const next = outcome(() => heap.malloc(64)); // before the map: returned b, held by the caller
    expect(next).not.toBe(`returned ${b}`);
    expect(next).toBe(CORRUPT);
  });

  it("free of a live slot whose header was replaced by its old freed one is corruption, not a double free", () => {
    const { heap, b } = replayedChain();
    expect(outcome(() => heap.free(b))).toBe(CORRUPT);
    expect(outcome(() => heap.check())).toBe(CORRUPT);
    expect(outcome(() => heap.stats())).toBe(CORRUPT);
  });

  it("a live header written back over a freed slot does not let it be freed twice", () => {
    const heap = pool();
    const a = heap.malloc(64);
    heap.malloc(64);
    const live = copyAt(heap, a);
    heap.free(a);
    writeBack(heap, { at: live.at, bytes: live.bytes.subarray(0, 8) }); // only the old header
    expect(outcome(() => heap.free(a))).toBe(CORRUPT); // before the map: freed again, a cycle in the list
    expect(outcome(() => heap.malloc(64))).toBe(CORRUPT); // the head slot's header no longer says free
  });

  it("recover() keeps the replayed live slot live, so it is never handed out again", () => {
    const { heap, b, c } = replayedChain();
    const report = heap.recover();
    expect(report.liveBlocks).toBe(2); // a and b; c was free
    heap.check();
    const taken = new Set<number>();
    for (let p = heap.tryMalloc(64); p !== 0; p = heap.tryMalloc(64)) taken.add(p);
    expect(taken.has(b)).toBe(false);
    expect(taken.has(c)).toBe(true);
    heap.free(b);
    heap.check();
  });
});

describe("pool: occupancy maps", () => {
  it("slots across many groups allocate, free, check, snapshot, restore, attach and recover", () => {
    const heap = Heap.create({ strategy: "pool", slotSize: 16, initialBytes: 4096 }) as PoolHeap;
    const ptrs = Array.from({ length: 300 }, () => heap.malloc(16));
    expect(new Set(ptrs).size).toBe(300);
    for (const p of ptrs.filter((_, i) => i % 3 === 0)) heap.free(p);
    heap.check();
    const snap = heap.snapshot();
    const kept = ptrs.filter((_, i) => i % 3 !== 0);
    for (const p of kept) heap.free(p);
    heap.restore(snap);
    heap.check();
    expect(heap.stats().liveBlocks).toBe(200);
    const attached = Heap.attach(heap.memory, { base: heap.base });
    attached.check();
    expect(heap.recover().liveBlocks).toBe(200);
    // Every slot freed by the first pass is handed out again before the pool takes new ones.
    const again = Array.from({ length: 100 }, () => heap.malloc(16)).sort((x, y) => x - y);
    expect(again).toEqual(ptrs.filter((_, i) => i % 3 === 0).sort((x, y) => x - y));
  });

  it("a shared pool keeps its maps in the shared memory: another heap object sees them", () => {
    const heap = Heap.create({ strategy: "pool", slotSize: 24, shared: true, initialBytes: 64 * 1024 });
    const ptrs = Array.from({ length: 100 }, () => heap.malloc(24));
    const other = Heap.attach(heap.memory, { base: heap.base });
    for (const p of ptrs) other.free(p);
    expect(outcome(() => heap.free(ptrs[70] as number))).toBe("ERR_MEMKIT_DOUBLE_FREE");
    heap.check();
  });

  it("an overflow past the last slot of a group lands on the next group's marks, which check() reports", () => {
    const heap = pool(64);
    const ptrs = Array.from({ length: 200 }, () => heap.malloc(64));
    // A group of 64-byte slots is 8 KiB: 113 slots after a 24-byte header (marks, then bits).
    const i = ptrs.findIndex((p, n) => (ptrs[n + 1] as number) - p !== 72);
    expect(i).toBe(112);
    const [last, next] = [ptrs[i] as number, ptrs[i + 1] as number];
    const marks = next - 8 - 24;
    heap.u8.fill(0xee, last + 64, marks + 8); // past the slot, through the unused tail, over the marks
    expect(outcome(() => heap.check())).toBe(CORRUPT);
    heap.free(next); // the slots and their bits are untouched
    expect(heap.malloc(64)).toBe(next);
  });

  it("a flipped map bit is caught by the free or malloc that meets it", () => {
    const heap = pool(64);
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    heap.free(b);
    const words = new Int32Array(heap.u8.buffer);
    const bits = (a - 8 - 24 + 8) >> 2; // a is slot 0 of the first group, after the marks
    words[bits] = (words[bits] as number) ^ 0b11; // a says free, b says live
    expect(outcome(() => heap.free(a))).toBe(CORRUPT);
    expect(outcome(() => heap.malloc(64))).toBe(CORRUPT);
    const report = heap.recover(); // both kept: a's header says live, b's map bit says live
    expect(report.liveBlocks).toBe(2);
    heap.free(a);
    heap.free(b);
    heap.check();
  });

  it("recover() rebuilds a pool whose free-list head was overwritten", () => {
    const heap = pool(64);
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    heap.free(a);
    new Int32Array(heap.u8.buffer)[(heap.base >> 2) + 13] = b - 8; // the head names a live slot
    expect(outcome(() => heap.malloc(64))).toBe(CORRUPT);
    expect(heap.recover().liveBlocks).toBe(1); // before: recover itself threw on the head
    expect(heap.malloc(64)).toBe(a);
  });
});
