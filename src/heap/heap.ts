import type { HeapMemory } from "./backing.js";
import { HeapBase } from "./base.js";
import { attachHeap, createHeap, fixedHeap, overHeap } from "./open.js";
import type { HeapInstanceOptions, HeapOptions } from "./options.js";

/**
 * A heap: malloc/free inside one `ArrayBuffer`, `SharedArrayBuffer` or `WebAssembly.Memory`.
 * Pointers are byte offsets into that memory (the same numbers a WebAssembly module sees).
 * The strategy (TLSF, arena or pool) decides the block layout; every heap shares the header,
 * growth, locking for shared memory, typed cells, checks, stats, snapshots and recovery.
 *
 * Every heap object is an instance of `Heap` (`heap instanceof Heap`), whatever its strategy
 * class (`TlsfHeap`, `ArenaHeap`, `PoolHeap`); the strategies are built on the same base.
 *
 * Hardened by default: no bytes written anywhere in the heap's memory make a call return a
 * pointer outside the block region or overlapping a live block, or run forever; each call ends
 * normally or throws `HeapCorruptionError` naming the offset (see the README's threat model).
 *
 * @example
 * ```ts
 * import { Heap } from "memkit/heap";
 * const heap = Heap.create();
 * const p = heap.malloc(64);
 * heap.u8[p] = 42;
 * heap.free(p);
 * ```
 */
export abstract class Heap extends HeapBase {
  /**
   * True for every heap object, whatever its strategy class.
   *
   * @param value Anything.
   * @returns Whether `value` is a heap.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof HeapBase;
  }

  /**
   * Creates a heap in new memory that grows on demand up to `maxBytes`: for a TLSF heap that runs
   * the WebAssembly engine (the default: see `HeapInstanceOptions.engine`), a `WebAssembly.Memory`
   * that grows in place; otherwise an `ArrayBuffer` that the heap replaces with a copy twice as
   * large when it grows (the fastest kind of JavaScript memory for V8), or a growable
   * `SharedArrayBuffer` with `shared: true`.
   *
   * @param options Strategy, sizes, zeroing, debugging.
   * @returns The heap.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   * @throws {SharedMemoryUnavailableError} ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE for `shared: true` where `SharedArrayBuffer` is missing (a page without COOP/COEP headers).
   * @example
   * ```ts
   * const heap = Heap.create({ initialBytes: 1 << 20, maxBytes: 64 << 20 });
   * ```
   */
  static create(options: HeapOptions = {}): Heap {
    return createHeap(options);
  }

  /**
   * Creates a heap in one fixed preallocated buffer that never grows (the "static pool" mode): a
   * `WebAssembly.Memory` of whole 64 KiB pages for a TLSF heap of at least 64 KiB that runs the
   * WebAssembly engine (the heap still ends at `bytes`), else an `ArrayBuffer` of `bytes`.
   *
   * @param bytes Size of the buffer.
   * @param options Strategy, zeroing, debugging.
   * @returns The heap.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   * @example
   * ```ts
   * const heap = Heap.fixed(64 * 1024);
   * ```
   */
  static fixed(bytes: number, options: Omit<HeapOptions, "initialBytes" | "maxBytes" | "shared"> = {}): Heap {
    return fixedHeap(bytes, options);
  }

  /**
   * Formats a new heap inside memory the caller provides (from `options.base` to its end, growing
   * up to `maxBytes` if the memory can grow). Whatever the memory held there is overwritten.
   *
   * @param memory The backing memory.
   * @param options Strategy, base offset, maximum, zeroing, debugging.
   * @returns The heap.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE when the memory is too small or base is bad.
   * @example
   * ```ts
   * const memory = new WebAssembly.Memory({ initial: 2, maximum: 100 });
   * const heap = Heap.over(memory, { base: 65536 });
   * ```
   */
  static over(memory: HeapMemory, options: HeapOptions = {}): Heap {
    return overHeap(memory, options);
  }

  /**
   * Reopens the heap that lives in `memory` (made by `create`, `fixed` or `over`, in this thread,
   * another worker, or a snapshot). For a `SharedArrayBuffer`, every attached thread may allocate
   * and free at once. The whole header is validated against the memory first. `debug` is per heap
   * object, not stored in the memory: attach a debug heap's memory with `debug: true` too, or its
   * blocks are seen without their red zones (the pointers the debug heap handed out are then not
   * block starts, and freeing them is `InvalidPointerError`).
   *
   * @param memory The memory holding the heap.
   * @param options Base offset and per-thread options.
   * @returns The heap.
   * @throws {NotAHeapError} ERR_MEMKIT_NOT_A_HEAP when no heap is there.
   * @throws {LayoutVersionError} ERR_MEMKIT_LAYOUT_VERSION for a heap of another layout version.
   * @throws {HeapCorruptionError} ERR_MEMKIT_HEAP_CORRUPTION when the header does not fit the memory (a truncated copy, overwritten words).
   * @example
   * ```ts
   * // in a worker, given the SharedArrayBuffer of a shared heap:
   * const heap = Heap.attach(workerData.memory);
   * ```
   */
  static attach(memory: HeapMemory, options: HeapInstanceOptions = {}): Heap {
    return attachHeap(memory, options);
  }
}
