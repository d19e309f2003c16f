import { MemPool } from "@thi.ng/malloc";
import { Heap, type HeapOptions } from "../../src/heap/index.js";
import { type ReplayTarget, replay, type Trace } from "../../test/helpers/trace.js";

/**
 * A private copy of `replay` per contender: V8 keeps type feedback per function, and one shared
 * driver calling five allocators would go megamorphic and slow every contender down alike.
 */
function freshReplay(): typeof replay {
  return new Function(`return (${replay.toString()})`)() as typeof replay;
}

/** Times one full replay (survivors freed by the trace itself). */
export type Runner = () => void;

/** A runner replaying `trace` against `target` with its own copy of the driver and id table. */
export function replayRunner(trace: Trace, target: ReplayTarget): Runner {
  const table = new Float64Array(trace.ids);
  const run = freshReplay();
  return () => run(trace, target, table);
}

export function heapRunner(trace: Trace, options: HeapOptions, fixed = false): { run: Runner; heap: Heap } {
  const heap = fixed
    ? Heap.fixed(64 << 20, options)
    : Heap.create({ initialBytes: 1 << 20, maxBytes: 256 << 20, ...options });
  const target: ReplayTarget = {
    malloc: (n) => heap.malloc(n),
    free: (p) => heap.free(p),
    realloc: (p, n) => heap.realloc(p, n),
    touch: (p) => {
      heap.u8[p] = 1;
    },
  };
  return { run: replayRunner(trace, target), heap };
}

/** Handles for object-based contenders: a free-list of slots standing in for pointers. */
class Slots<T> {
  readonly items: (T | undefined)[] = [undefined];
  private readonly freeSlots: number[] = [];
  put(item: T): number {
    const slot = this.freeSlots.pop();
    if (slot === undefined) return this.items.push(item) - 1;
    this.items[slot] = item;
    return slot;
  }
  take(slot: number): T {
    const item = this.items[slot] as T;
    this.items[slot] = undefined;
    this.freeSlots.push(slot);
    return item;
  }
}

export function cellRunner(trace: Trace): Runner {
  const heap = Heap.create({ initialBytes: 1 << 20, maxBytes: 256 << 20, zero: "none" });
  const cells = new Slots<ReturnType<typeof heap.alloc<Uint8ArrayConstructor>>>();
  const target: ReplayTarget = {
    malloc: (n) => cells.put(heap.alloc(Uint8Array, n)),
    free: (s) => cells.take(s).free(),
    realloc: (s, n) => {
      const old = cells.take(s);
      const next = heap.alloc(Uint8Array, n);
      next.view.set(old.view.subarray(0, Math.min(n, old.length)));
      old.free();
      return cells.put(next);
    },
    touch: (s) => {
      (cells.items[s] as { view: Uint8Array }).view[0] = 1;
    },
  };
  return replayRunner(trace, target);
}

export function typedArrayRunner(trace: Trace): Runner {
  const arrays = new Slots<Uint8Array>();
  const target: ReplayTarget = {
    malloc: (n) => arrays.put(new Uint8Array(n)),
    free: (s) => {
      arrays.take(s);
    },
    realloc: (s, n) => {
      const old = arrays.take(s);
      const next = new Uint8Array(n);
      next.set(old.subarray(0, Math.min(n, old.length)));
      return arrays.put(next);
    },
    touch: (s) => {
      (arrays.items[s] as Uint8Array)[0] = 1;
    },
  };
  return replayRunner(trace, target);
}

export function thingRunner(trace: Trace): { run: Runner } {
  const pool = new MemPool({ size: 64 << 20 });
  const u8 = new Uint8Array(pool.buf);
  const target: ReplayTarget = {
    malloc: (n) => pool.malloc(n),
    free: (p) => {
      pool.free(p);
    },
    realloc: (p, n) => pool.realloc(p, n),
    touch: (p) => {
      u8[p] = 1;
    },
  };
  return { run: replayRunner(trace, target) };
}
