import type { Heap } from "../heap/index.js";
import { AllocError } from "./errors.js";

/** A pointer, or why there is none. */
export type AllocResult =
  | { readonly ok: true; readonly ptr: number }
  | { readonly ok: false; readonly error: AllocError };

/**
 * What fallible code allocates from: a heap, or a layer over one (a budget, a fault injector),
 * stacked in any order. `try*` methods return 0 on failure and leave the reason in `lastError`;
 * nothing is changed by a failed call.
 */
export interface Allocator {
  /** The heap at the bottom of the stack, for `check()`, `stats()` and reading memory. */
  readonly heap: Heap;
  /** Why the last `try*` call on this layer returned 0. */
  readonly lastError: AllocError | undefined;
  /** A block of `bytes`, or 0 (see `lastError`). */
  tryMalloc(bytes: number, align?: number): number;
  /** The block resized (maybe moved), or 0 with the old block untouched (see `lastError`). */
  tryRealloc(ptr: number, bytes: number): number;
  /** Frees a block from `tryMalloc`/`tryRealloc`. */
  free(ptr: number): void;
  /** The usable size of a live block. */
  usableSize(ptr: number): number;
}

/**
 * `tryMalloc` as a result object.
 *
 * @param allocator Any allocator layer.
 * @param bytes Size.
 * @returns `{ ok: true, ptr }` or `{ ok: false, error }`.
 * @example
 * ```ts
 * const r = allocate(alloc, 64);
 * if (r.ok) alloc.free(r.ptr);
 * ```
 */
export function allocate(allocator: Allocator, bytes: number): AllocResult {
  const ptr = allocator.tryMalloc(bytes);
  if (ptr !== 0) return { ok: true, ptr };
  return { ok: false, error: allocator.lastError ?? new AllocError("exhausted", bytes, 0) };
}

/**
 * `tryMalloc` that throws the `AllocError` instead of returning 0.
 *
 * @param allocator Any allocator layer.
 * @param bytes Size.
 * @returns The pointer.
 * @throws {AllocError} ERR_MEMKIT_ALLOC_FAILED with `kind`.
 * @example
 * ```ts
 * const p = mallocOrThrow(alloc, 64);
 * ```
 */
export function mallocOrThrow(allocator: Allocator, bytes: number, align?: number): number {
  const ptr = allocator.tryMalloc(bytes, align);
  if (ptr === 0) throw allocator.lastError ?? new AllocError("exhausted", bytes, 0);
  return ptr;
}

/**
 * The bottom layer: a memkit heap seen through the `Allocator` interface. Exhaustion becomes an
 * `AllocError` with `kind: "exhausted"`.
 *
 * @example
 * ```ts
 * const alloc = new HeapAllocator(Heap.create());
 * ```
 */
export class HeapAllocator implements Allocator {
  /** @inheritdoc */
  readonly heap: Heap;
  /** @inheritdoc */
  lastError: AllocError | undefined = undefined;

  /** @param heap Any memkit heap. */
  constructor(heap: Heap) {
    this.heap = heap;
  }

  /** A block of `bytes`, or 0 with the reason in `lastError`. @param bytes Size. @param align Alignment. @returns The pointer or 0. */
  tryMalloc(bytes: number, align?: number): number {
    const ptr = this.heap.tryMalloc(bytes, align);
    if (ptr === 0) this.lastError = new AllocError("exhausted", bytes, this.heap.stats().largestFree);
    return ptr;
  }

  /** The block resized, or 0 with the old block untouched. @param ptr The block. @param bytes New size. @returns The pointer or 0. */
  tryRealloc(ptr: number, bytes: number): number {
    try {
      return this.heap.realloc(ptr, bytes);
    } catch (error) {
      if ((error as { code?: string }).code !== "ERR_MEMKIT_OUT_OF_MEMORY") throw error;
      this.lastError = new AllocError("exhausted", bytes, this.heap.stats().largestFree);
      return 0;
    }
  }

  /** Frees a block. @param ptr The block. */
  free(ptr: number): void {
    this.heap.free(ptr);
  }

  /** The usable size of a live block. @param ptr The block. @returns Bytes. */
  usableSize(ptr: number): number {
    return this.heap.usableSize(ptr);
  }
}
