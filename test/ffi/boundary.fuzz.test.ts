import { instantiateWithHeap } from "memkit/ffi";
import { describe, expect, it } from "vitest";
import { seededU32 } from "../../src/internal/random.js";
import { type Ownership, ownershipWasm } from "../helpers/ownership-fixture.js";

// Seeded fuzzing of the C boundary: random malloc/calloc/realloc/free calls made *from C*, with
// sizes up to SIZE_MAX and bad frees mixed in. C must never see an exception (every failure is
// NULL), every bad free must come out as its typed error when the call returns, and the heap
// and the instance must stay sound. MEMKIT_FUZZ_RUNS=100000 runs longer; MEMKIT_FUZZ_SEED=S runs
// seeds S..S+9 instead of the regression seeds (add --testTimeout=0 for long runs).

const RUNS = Number(process.env.MEMKIT_FUZZ_RUNS ?? 2000);
const FIRST_SEED = process.env.MEMKIT_FUZZ_SEED;
const SEEDS = FIRST_SEED ? Array.from({ length: 10 }, (_, i) => Number(FIRST_SEED) + i) : [1, 2, 3, 0xc0ffee];

const BAD_FREE = ["ERR_MEMKIT_DOUBLE_FREE", "ERR_MEMKIT_INVALID_POINTER"];
const SIZES = [0, 1, 8, 24, 100, 4096, 70_000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];

async function fuzz(seed: number): Promise<void> {
  const next = seededU32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const { exports: c, heap } = await instantiateWithHeap<Ownership>(ownershipWasm, { maxBytes: 4 << 20 });
  const live = new Set<number>();
  const freed = new Set<number>();
  const caught = (fn: () => unknown): { value?: unknown; code?: string } => {
    try {
      return { value: fn() };
    } catch (error) {
      return { code: (error as { code?: string }).code ?? String(error) };
    }
  };
  for (let step = 0; step < RUNS; step++) {
    const where = `seed ${seed}, step ${step}`;
    const r = next();
    const any = [...live];
    if (r < 0.35 || any.length === 0) {
      const size = pick(SIZES);
      const got = caught(() => (r < 0.25 ? c.allocate(size) : c.allocate_zeroed(1 + (size >>> 4), 16)));
      expect(got.code, where).toBeUndefined();
      const p = got.value as number;
      if (p !== 0) {
        live.add(p);
        freed.delete(p);
      }
    } else if (r < 0.6) {
      const p = pick(any);
      const got = caught(() => c.resize(p, pick(SIZES)));
      expect(got.code, where).toBeUndefined();
      const moved = got.value as number;
      if (moved !== 0) {
        live.delete(p);
        if (moved !== p) freed.add(p);
        freed.delete(moved);
        live.add(moved);
      }
    } else if (r < 0.85) {
      const p = pick(any);
      expect(caught(() => c.release(p)).code, where).toBeUndefined();
      live.delete(p);
      freed.add(p);
    } else if (r < 0.93 && freed.size > 0) {
      // Freed again (never handed out since): a double free, or, once the block has merged with
      // a free neighbour, a pointer into a free block. Either way typed, and nothing changes.
      const p = pick([...freed]);
      expect(BAD_FREE, where).toContain(caught(() => c.release(p)).code);
    } else {
      // Inside a live block, past its start: refused. (Old bytes there may still hold a freed
      // block's tag, which the heap reports as a double free: typed too, and nothing changes.)
      const p = pick(any);
      const inside = 8 * Math.floor(next() * (heap.usableSize(p) >> 3));
      if (inside > 0) expect(BAD_FREE, where).toContain(caught(() => c.release(p + inside)).code);
    }
    if (step % 97 === 0) heap.check();
  }
  expect(heap.stats().liveBlocks).toBe(live.size);
  for (const p of live) c.release(p);
  heap.check();
  expect(heap.stats().liveBlocks).toBe(0);
}

describe("fuzzing the C boundary (seeded)", () => {
  it.each(SEEDS)(
    "seed %i: C sees NULL for every failure, bad frees come out typed, the heap stays sound",
    fuzz,
    60_000,
  );
});
