import { type ArenaHeap, Heap, type StrategyName } from "memkit/heap";
import { describe, expect, it } from "vitest";

/** The code of what `fn` throws, or "returned" when it does not throw. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? `uncoded ${String(error)}`;
  }
  return "returned";
}

const CORRUPT = "ERR_MEMKIT_HEAP_CORRUPTION";

/** Every live pointer the model knows must be disjoint from `ptr`'s block, and inside the region. */
function expectDisjoint(heap: Heap, ptr: number, size: number, live: [number, number][]): void {
  expect(ptr).toBeGreaterThan(heap.base);
  expect(ptr + size).toBeLessThanOrEqual(heap.u8.length);
  for (const [p, s] of live) expect(ptr + size <= p || p + s <= ptr).toBe(true);
}

describe("tlsf: in-band metadata is validated before use", () => {
  it("a 1-byte overflow setting the next header's left-free flag plus a forged back pointer: free does not merge over a live block", () => {
    const heap = Heap.fixed(64 * 1024);
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    const c = heap.malloc(64);
    // Overflow from a into b's header (L flag), and a forged back pointer (a's last word) naming a.
    heap.u8[b - 8] = (heap.u8[b - 8] as number) | 2;
    new Int32Array(heap.u8.buffer)[(b - 12) >> 2] = a - 8;
    const code = codeOf(() => heap.free(b));
    expect(code).not.toBe("returned");
    // Whatever free did, the next malloc never overlaps the live a or c.
    const p = heap.tryMalloc(200);
    if (p !== 0)
      expectDisjoint(heap, p, 200, [
        [a, 64],
        [c, 64],
      ]);
  });

  it("an enlarged size field never hands the same memory out twice", () => {
    const heap = Heap.fixed(64 * 1024);
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    new Int32Array(heap.u8.buffer)[(a - 8) >> 2] = 64 + 8 + 64 + 8 + 256;
    expect(codeOf(() => heap.free(a))).not.toBe("returned");
    const p = heap.tryMalloc(300);
    if (p !== 0) expectDisjoint(heap, p, 300, [[b, 64]]);
  });

  it.each([
    ["a live block", (_f: number, live: number) => live - 8],
    ["the heap header", () => 16],
    ["past the buffer", () => 1 << 30],
    ["a random word", () => 0x12345678],
  ])("a poisoned free-list link naming %s makes malloc throw HeapCorruptionError", (_name, target) => {
    const heap = Heap.fixed(64 * 1024, { zero: "none" });
    const live = heap.malloc(48);
    const f = heap.malloc(48);
    heap.malloc(48);
    heap.free(f);
    const words = new Int32Array(heap.u8.buffer);
    // Both links of the free block (raw writes: a use-after-free write of a plausible pointer).
    words[f >> 2] = target(f, live);
    words[(f + 4) >> 2] = target(f, live);
    let code: string | undefined;
    for (let i = 0; i < 3 && code === undefined; i++) {
      try {
        const p = heap.malloc(48);
        expectDisjoint(heap, p, 48, [[live, 48]]);
      } catch (error) {
        code = (error as { code?: string }).code;
      }
    }
    expect(code).toBe(CORRUPT);
  });

  it("a double free through a restored (forged) tag is refused and check() reports nothing wrong after", () => {
    const heap = Heap.fixed(64 * 1024);
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    heap.malloc(64);
    const words = new Int32Array(heap.u8.buffer);
    const savedTag = words[(b - 4) >> 2] as number;
    heap.free(a);
    heap.free(b); // merges into a
    words[(b - 4) >> 2] = savedTag;
    expect(["ERR_MEMKIT_DOUBLE_FREE", CORRUPT, "ERR_MEMKIT_INVALID_POINTER"]).toContain(codeOf(() => heap.free(b)));
    words[(b - 4) >> 2] = savedTag ^ 0x5a5a5a5a;
    heap.check();
  });

  it("check() finds a changed size, tag or link", () => {
    const heap = Heap.fixed(64 * 1024);
    const a = heap.malloc(64);
    heap.malloc(64);
    const words = new Int32Array(heap.u8.buffer);
    words[(a - 8) >> 2] = 80;
    expect(codeOf(() => heap.check())).toBe(CORRUPT);
  });
});

describe("walks end on any memory contents", () => {
  it.each<StrategyName>(["tlsf", "arena", "pool"])(
    "%s: size -8 makes stats/live/leakReport/check/OOM throw, not spin",
    (strategy) => {
      const heap = Heap.fixed(16 * 1024, { strategy, slotSize: 32 });
      const a = heap.malloc(16);
      heap.malloc(16);
      new Int32Array(heap.u8.buffer)[(a - 8) >> 2] = -8;
      expect(codeOf(() => heap.stats())).toBe(CORRUPT);
      expect(codeOf(() => heap.live())).toBe(CORRUPT);
      expect(codeOf(() => heap.leakReport())).toBe(CORRUPT);
      expect(codeOf(() => heap.check())).toBe(CORRUPT);
      // Exhaust the heap: the out-of-memory path walks too.
      let code: string | undefined;
      for (let i = 0; i < 2000 && code === undefined; i++)
        code = codeOf(() => heap.malloc(16)) === "returned" ? undefined : codeOf(() => heap.malloc(16));
      expect([CORRUPT, "ERR_MEMKIT_OUT_OF_MEMORY"]).toContain(code);
    },
  );

  it("arena reset() over a size -8 throws instead of spinning", () => {
    const arena = Heap.fixed(16 * 1024, { strategy: "arena" }) as ArenaHeap;
    const a = arena.malloc(16);
    arena.malloc(16);
    new Int32Array(arena.u8.buffer)[(a - 8) >> 2] = -8;
    expect(codeOf(() => arena.reset())).toBe(CORRUPT);
  });
});

describe("pool: a use-after-free write into a free slot", () => {
  it("a 4-byte write over the slot's link makes malloc throw, never return a live slot or memory outside", () => {
    const pool = Heap.fixed(16 * 1024, { strategy: "pool", slotSize: 32 });
    const a = pool.malloc(32);
    const b = pool.malloc(32);
    pool.free(b);
    new Int32Array(pool.u8.buffer)[b >> 2] = a - 8;
    expect(pool.malloc(32)).toBe(b); // b itself is free: fine to hand out
    expect(codeOf(() => pool.malloc(32))).toBe(CORRUPT); // the link it carried is not followed to a
  });

  it("a write over the link of the head slot is caught when the link is followed", () => {
    const pool = Heap.fixed(16 * 1024, { strategy: "pool", slotSize: 32 });
    const live = pool.malloc(32);
    const b = pool.malloc(32);
    const c = pool.malloc(32);
    pool.free(b);
    pool.free(c); // list: c -> b
    new Int32Array(pool.u8.buffer)[c >> 2] = live - 8;
    const first = pool.malloc(32);
    expect(first).toBe(c);
    expect(codeOf(() => pool.malloc(32))).toBe(CORRUPT);
  });
});

describe("arena sizes", () => {
  it.each([2 ** 31, 2 ** 32 - 8])("malloc(%i) is an InvalidSizeError, never a pointer", (size) => {
    const arena = Heap.create({ strategy: "arena" });
    expect(codeOf(() => arena.malloc(size))).toBe("ERR_MEMKIT_INVALID_SIZE");
    const p = arena.malloc(8);
    expect(p).toBeGreaterThan(0);
  });
});

describe("pool + debug", () => {
  it("allocates, catches a double free and a write past the requested size", () => {
    const pool = Heap.create({ strategy: "pool", slotSize: 64, debug: true });
    const p = pool.malloc(40);
    pool.u8.fill(1, p, p + 40);
    pool.free(p);
    expect(codeOf(() => pool.free(p))).toBe("ERR_MEMKIT_DOUBLE_FREE");
    const q = pool.malloc(40);
    pool.u8[q + 40] = 9;
    expect(codeOf(() => pool.free(q))).toBe(CORRUPT);
  });
});

describe("arena + debug + reset()", () => {
  it("reset drops quarantined blocks, so later evictions raise no false errors and free nothing live", () => {
    const arena = Heap.create({ strategy: "arena", debug: true }) as ArenaHeap;
    const mark = arena.mark();
    for (let i = 0; i < 100; i++) arena.free(arena.malloc(64));
    arena.reset(mark);
    // The same addresses are live again; then enough frees to evict everything quarantined.
    const again = Array.from({ length: 100 }, () => arena.malloc(64));
    for (const p of again) arena.u8.fill(7, p, p + 64);
    for (let i = 0; i < 400; i++) arena.free(arena.malloc(64));
    for (const p of again) expect(arena.usableSize(p)).toBe(64);
    for (const p of again) arena.free(p);
    for (let i = 0; i < 400; i++) arena.free(arena.malloc(64));
    arena.check();
  });
});

/**
 * Aligned words of [from, to) still holding the 0xab fill. Not `includes(0xab)`: the heap writes its
 * own words there (tags, encoded links: pseudo-random, so 1 in 10 runs held an 0xab byte somewhere),
 * always whole aligned words, so a surviving byte of the program's data leaves a whole 0xabababab word.
 */
function userWordsLeft(heap: Heap, from: number, to: number): number {
  return new Uint32Array(heap.u8.buffer, from, (to - from) >> 2).filter((w) => w === 0xabababab).length;
}

describe('zero: "free" wipes a shrinking realloc\'s tail', () => {
  it.each<StrategyName>(["tlsf", "arena"])("%s", (strategy) => {
    const heap = Heap.fixed(64 * 1024, { strategy, zero: "free" });
    const p = heap.malloc(256);
    heap.u8.fill(0xab, p, p + 256);
    expect(heap.realloc(p, 16)).toBe(p);
    expect(userWordsLeft(heap, p + 16, p + 256)).toBe(0);
    heap.free(p);
    expect(userWordsLeft(heap, p, p + 256)).toBe(0);
  });
});

describe("snapshots of a shared heap", () => {
  it("never record the lock as held: a heap attached to a copy works at once", () => {
    const heap = Heap.create({ shared: true, initialBytes: 64 * 1024 });
    heap.malloc(100);
    const snap = heap.snapshot();
    const copy = new SharedArrayBuffer(snap.end);
    new Uint8Array(copy).set(snap.bytes, snap.base);
    const attached = Heap.attach(copy, { lockTimeoutMs: 1e9 });
    expect(attached.malloc(50)).toBeGreaterThan(0);
    attached.check();
  });
});

describe("sizes of the wrong type", () => {
  it.each([8n, Symbol("x")])("%s -> coded errors", (value) => {
    const heap = Heap.create();
    const v = value as unknown as number;
    expect(codeOf(() => heap.malloc(v))).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(codeOf(() => heap.tryMalloc(v))).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(codeOf(() => heap.alloc(Uint8Array, v))).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(codeOf(() => heap.realloc(heap.malloc(8), v))).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(codeOf(() => heap.free(v))).toBe("ERR_MEMKIT_INVALID_POINTER");
    expect(codeOf(() => heap.usableSize(v))).toBe("ERR_MEMKIT_INVALID_POINTER");
    for (const strategy of ["arena", "pool"] as const) {
      const other = Heap.create({ strategy });
      expect(codeOf(() => other.malloc(v))).toBe("ERR_MEMKIT_INVALID_SIZE");
      expect(codeOf(() => other.free(v))).toBe("ERR_MEMKIT_INVALID_POINTER");
    }
  });
});
