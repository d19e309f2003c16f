import { EmbeddedWasm } from "../internal/embedded-wasm.js";
import type { WasmMemory } from "./backing.js";
import { ENGINE_WASM } from "./engine-wasm.js";

/**
 * The WebAssembly TLSF engine (engine/tlsf.c): tlsf-core.ts's malloc, free and realloc compiled to
 * WebAssembly, for heaps over a non-shared `WebAssembly.Memory`. It leaves exactly the bytes the
 * TypeScript hot paths would leave (test/heap/engine.test.ts compares the two), so everything else
 * (walks, check, stats, attach, snapshots) stays in TypeScript and sees one heap.
 */

/** The engine's exports, as the heap calls them (WebAssembly passes and returns i32). */
export interface EngineExports {
  /** Binds the instance to a heap: header word index, first block, sentinel, secret, zero flags. */
  bind(h: number, start: number, limit: number, secret: number, zeroAlloc: number, zeroFree: number): void;
  /** The sentinel moved (the heap grew). */
  set_limit(limit: number): void;
  /** A pointer, or 0 when the TypeScript path must take over (growth, huge sizes, an end word that does not check out). */
  malloc(bytes: number): number;
  /** 1; 2 when the end word moved and does not check out (the TypeScript path takes the call); 0 after a cold path (which threw). */
  free(ptr: number): number;
  /** The (maybe moved) pointer, or 0 when the TypeScript path must take over. */
  realloc(ptr: number, bytes: number): number;
  /** C's malloc/free/calloc/realloc (C's rules: what the engine cannot serve goes to `c`'s imports). */
  c_malloc(size: number): number;
  c_free(ptr: number): void;
  c_calloc(count: number, size: number): number;
  c_realloc(ptr: number, size: number): number;
}

/**
 * C's four allocation functions as WebAssembly calls them (i32 in, i32 out): what a C module
 * imports, and what `Heap.wasmAllocator` takes as its fallback and returns.
 *
 * @example
 * ```ts
 * const c: CAllocatorFunctions = {
 *   malloc: (size) => heap.tryMalloc(size >>> 0),
 *   free: (ptr) => { if (ptr !== 0) heap.free(ptr >>> 0); },
 *   calloc: (count, size) => heap.calloc(count >>> 0, size >>> 0),
 *   realloc: (ptr, size) => heap.realloc(ptr >>> 0, size >>> 0),
 * };
 * ```
 */
export interface CAllocatorFunctions {
  /** `size` bytes (WebAssembly passes it as a signed i32), or 0 (NULL). */
  malloc(size: number): number;
  /** Frees `ptr`; 0 does nothing. */
  free(ptr: number): void;
  /** `count * size` zeroed bytes, or 0. */
  calloc(count: number, size: number): number;
  /** `ptr` resized (maybe moved), or 0 with `ptr` left alone; `ptr` 0 allocates. */
  realloc(ptr: number, size: number): number;
}

/**
 * What `Heap.wasmAllocator` returns: C's four functions served by the heap's WebAssembly engine,
 * and what a C module with memkit's allocator compiled in needs to share the heap.
 *
 * @example
 * ```ts
 * const allocator = heap.wasmAllocator(fallback, (error) => console.error(error));
 * allocator?.bindLinked(instance.exports.memkit_bind as (...args: number[]) => void);
 * ```
 */
export interface WasmAllocator extends CAllocatorFunctions {
  /**
   * This heap's handler for a check that failed in memkit's allocator compiled into a C module
   * (`src/heap/engine/tlsf.c` built with `-DMEMKIT_LINKED`): that module's `"memkit" "cold"` import.
   */
  readonly cold: (kind: number, a: number, b: number, fromC: number) => void;
  /**
   * Binds memkit's allocator compiled into a C module to this heap, through the module's
   * `memkit_bind` export: the module's malloc and free then run there, in the module itself.
   */
  bindLinked(
    memkitBind: (h: number, start: number, limit: number, secret: number, zeroAlloc: number, zeroFree: number) => void,
  ): void;
}

const engineModule = new EmbeddedWasm(ENGINE_WASM);

/** Whether the engine compiles in this runtime (then TLSF heaps over WebAssembly memory use it). */
export function engineAvailable(): boolean {
  return engineModule.available;
}

/**
 * An engine instance over `memory`, bound to one heap, or undefined when the engine is
 * unavailable. `cold` runs for a failed check; `fallback()` gives the C entry points' JavaScript
 * functions when C calls them (until then they fail as C expects: NULL).
 */
export function startEngine(
  memory: WasmMemory,
  cold: (kind: number, a: number, b: number, fromC: number) => void,
  fallback: () => CAllocatorFunctions | undefined,
): EngineExports | undefined {
  // The C imports look the fallback up at each call: they run only off the fast path.
  const c = {
    malloc: (size: number) => fallback()?.malloc(size) ?? 0,
    free: (ptr: number) => fallback()?.free(ptr),
    calloc: (count: number, size: number) => fallback()?.calloc(count, size) ?? 0,
    realloc: (ptr: number, size: number) => fallback()?.realloc(ptr, size) ?? 0,
  };
  return engineModule.instantiate({ env: { memory }, memkit: { cold }, c }) as EngineExports | undefined;
}
