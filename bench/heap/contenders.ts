import { readFileSync } from "node:fs";
import { MemPool } from "@thi.ng/malloc";
import { Heap, type HeapOptions } from "../../src/heap/index.js";
import { type ReplayTarget, replay, type Trace } from "../../test/helpers/trace.js";
import { checkSameWork } from "./same-work.js";

/**
 * A private copy of `replay` per contender: V8 keeps type feedback per function, and one shared
 * driver calling five allocators would go megamorphic and slow every contender down alike.
 */
function freshReplay(): typeof replay {
  return new Function(`return (${replay.toString()})`)() as typeof replay;
}

/** Times one full replay (survivors freed by the trace itself). */
export type Runner = () => void;

/**
 * A runner replaying `trace` against `target` with its own copy of the driver and id table. With
 * `checkAs`, one untimed replay first checks the target does the trace's calls, sizes and touches.
 */
export function replayRunner(trace: Trace, target: ReplayTarget, checkAs?: string): Runner {
  if (checkAs !== undefined) checkSameWork(checkAs, trace, target);
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
  return { run: replayRunner(trace, target, `memkit ${JSON.stringify(options)}`), heap };
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
  return replayRunner(trace, target, "memkit cells");
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
  return replayRunner(trace, target, "new Uint8Array");
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
  return { run: replayRunner(trace, target, "@thi.ng/malloc") };
}

/** The exports of bench/heap/as-tlsf.wasm (scripts/assemblyscript/tlsf-malloc.ts). */
interface AsTlsf {
  malloc(size: number): number;
  free(ptr: number): void;
  realloc(ptr: number, size: number): number;
  memory: WebAssembly.Memory;
}

const asTlsfWasm = new URL("../../../bench/heap/as-tlsf.wasm", import.meta.url);

/**
 * A fresh instance of AssemblyScript's TLSF compiled to WebAssembly (`--runtime minimal -O3
 * --noAssert`) as a replay target. Its memory grows by `memory.grow`, which detaches the old buffer:
 * the touch re-creates its view when a pointer falls past it (a detached view has length 0), the same
 * one-byte write the other contenders do. Also used by scripts/profile-heap.mjs.
 */
export function assemblyScriptTarget(): { target: ReplayTarget; memory: WebAssembly.Memory } {
  const abort = (_message: number, _file: number, line: number, column: number) => {
    throw new Error(`AssemblyScript TLSF aborted at ${line}:${column}`);
  };
  const module = new WebAssembly.Module(readFileSync(asTlsfWasm));
  const as = new WebAssembly.Instance(module, { env: { abort } }).exports as unknown as AsTlsf;
  let u8 = new Uint8Array(as.memory.buffer);
  const target: ReplayTarget = {
    malloc: (n) => as.malloc(n),
    free: (p) => as.free(p),
    realloc: (p, n) => as.realloc(p, n),
    touch: (p) => {
      if (p >= u8.length) u8 = new Uint8Array(as.memory.buffer);
      u8[p] = 1;
    },
  };
  return { target, memory: as.memory };
}

/** AssemblyScript's TLSF on `trace`, a fresh instance per workload. */
export function assemblyScriptRunner(trace: Trace): { run: Runner; highWater: () => number } {
  const { target, memory } = assemblyScriptTarget();
  return { run: replayRunner(trace, target, "AssemblyScript TLSF"), highWater: () => memory.buffer.byteLength };
}
