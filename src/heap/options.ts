/** What a freshly allocated or freed block contains. */
export type ZeroMode = "alloc" | "free" | "none";

/** The allocation strategy of a heap. */
export type StrategyName = "tlsf" | "arena" | "pool";

/** A leak found by the garbage collector: a cell was reclaimed while its block was still allocated. */
export interface LeakReport {
  readonly ptr: number;
  readonly size: number;
  /** Allocation stack, when `trackSites` is on. */
  readonly site: string | undefined;
}

/** Options that apply to a heap object (per thread), whether created or attached. */
export interface HeapInstanceOptions {
  /**
   * Red zones around every block (checked on free and by `check()`) and a quarantine that delays
   * reuse of freed blocks so writes after free are caught. Slower; for tests and debugging.
   * @defaultValue false
   */
  readonly debug?: boolean;
  /**
   * Record the allocation stack of every block, for `live()` and `leakReport()`.
   * @defaultValue false
   */
  readonly trackSites?: boolean;
  /**
   * Report cells reclaimed by the garbage collector while their block is still allocated.
   * @defaultValue true when `debug` or `trackSites` is on, else false
   */
  readonly detectLeaks?: boolean;
  /**
   * Keep up to 16 freed blocks of each small size (<= 1 KiB, 8-byte classes) in a per-object cache and hand
   * them out again without touching the free lists (like glibc's tcache). For shared heaps this
   * avoids taking the lock for most small blocks; for any TLSF heap it trades immediate coalescing
   * of those blocks for speed. Cached blocks count as live until `flush()` (which `check()`,
   * `stats()` and `live()` call); a double free of a cached block is still caught.
   * @defaultValue true for heaps over shared memory, false otherwise
   */
  readonly cache?: boolean;
  /** Called with each definite leak found by the garbage collector. */
  readonly onLeak?: (leak: LeakReport) => void;
  /**
   * Most bytes of headroom a growth in place adds beyond what the failing allocation needs. Memory
   * that grows in place (`WebAssembly.Memory`, growable `SharedArrayBuffer`, resizable `ArrayBuffer`)
   * grows to the bytes needed plus `min(current region / 8, growthHeadroom)`, rounded up to 64 KiB
   * pages: bounded headroom, not doubling, so a heap sharing a WebAssembly module's memory stays
   * close to its live size. `0` grows by exactly what is needed (page-rounded). A `Heap.create`
   * heap that is not shared grows by copying into a buffer twice as large instead, which keeps the
   * copies amortised O(1); this option does not apply to it.
   * @defaultValue 8 MiB
   */
  readonly growthHeadroom?: number;
  /**
   * Shared heaps: how long a thread waiting for the lock lets its holder make no progress at all
   * before declaring it dead (a worker terminated inside a heap operation) and poisoning the heap
   * (`HeapPoisonedError`; see `recover()`). Operations hold the lock for microseconds; what this
   * gives up is a holder stalled longer than this inside one operation (a debugger pause), which
   * is taken for dead too. `Infinity` waits forever: a dead holder then hangs every thread.
   * @defaultValue 2000
   */
  readonly lockTimeoutMs?: number;
  /**
   * Which code runs a TLSF heap's malloc, free and realloc over a non-shared `WebAssembly.Memory`
   * (what `Heap.create` and `Heap.fixed` give such a heap): `"wasm"`, memkit's TLSF hot paths
   * compiled to WebAssembly (the same checks, layout and results as the TypeScript ones, about
   * 1.2-1.5x faster per call, and callable from C without entering JavaScript, see
   * `wasmAllocator`), or `"typescript"` (then `Heap.create` and `Heap.fixed` use an `ArrayBuffer`).
   * Debug, cached, shared, arena and pool heaps always use TypeScript, and so does `"wasm"` wherever
   * WebAssembly cannot compile the engine (a content security policy without `'wasm-unsafe-eval'`).
   * @defaultValue "wasm"
   */
  readonly engine?: "wasm" | "typescript";
  /**
   * Byte offset in the memory where the heap's header is (and starts), e.g. a WebAssembly
   * module's `__heap_base`. Must be a multiple of 8.
   * @defaultValue 0
   */
  readonly base?: number;
}

/** Options for a new heap. */
export interface HeapOptions extends HeapInstanceOptions {
  /** @defaultValue "tlsf" */
  readonly strategy?: StrategyName;
  /**
   * What new blocks contain: `"alloc"` zeroes every block when it is allocated (like calloc);
   * `"free"` wipes blocks when they are freed, so secrets do not linger; `"none"` leaves old bytes
   * in place (fastest; a new block may show a previous block's data).
   * @defaultValue "alloc"
   */
  readonly zero?: ZeroMode;
  /**
   * Bytes the heap starts with (`Heap.create`).
   * @defaultValue 1 MiB
   */
  readonly initialBytes?: number;
  /**
   * The most the heap may ever use, header included; the heap grows up to it on demand.
   * @defaultValue 1 GiB for `Heap.create`; the memory's own size or maximum for `Heap.over`
   */
  readonly maxBytes?: number;
  /**
   * Back the heap with a growable `SharedArrayBuffer` that workers can `Heap.attach` (`Heap.create`).
   * @defaultValue false
   */
  readonly shared?: boolean;
  /**
   * Slot size in bytes for the `"pool"` strategy: every block has exactly this usable size.
   * @defaultValue 64
   */
  readonly slotSize?: number;
}
