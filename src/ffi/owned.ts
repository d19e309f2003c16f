import type { Heap } from "../heap/index.js";
import { InvalidPointerError } from "../heap/index.js";
import { writeCString } from "./c-string.js";
import { AlreadyOwnedError, FreedPointerError, MovedError } from "./errors.js";

/** Pointers some `Owned` handle owns, per heap: owning one twice would free it twice. */
const ownedByHeap = new WeakMap<Heap, Set<number>>();

function ownedSet(heap: Heap): Set<number> {
  let set = ownedByHeap.get(heap);
  if (set === undefined) {
    set = new Set();
    ownedByHeap.set(heap, set);
  }
  return set;
}

/**
 * A pointer with an owner, with Rust's move semantics across the boundary: `intoRaw()` gives the
 * ownership away (to C, which will free the memory) and empties the handle; `Owned.fromRaw()`
 * takes ownership of memory C handed over; a `using` scope frees what is still owned. Using an
 * emptied handle is a `MovedError`, never a dangling pointer.
 *
 * @example
 * ```ts
 * {
 *   using name = Owned.cString(heap, "world");
 *   exports.take_string(name.intoRaw()); // C frees it; dispose does nothing
 * }
 * using greeting = Owned.fromRaw(heap, exports.make_greeting(ptr)); // we free it at scope end
 * ```
 */
export class Owned {
  readonly #heap: Heap;
  #ptr: number;

  private constructor(heap: Heap, ptr: number) {
    this.#heap = heap;
    this.#ptr = ptr;
    ownedSet(heap).add(ptr);
  }

  /**
   * Allocates `bytes` and owns them.
   * @param heap The heap.
   * @param bytes Size.
   * @returns The handle.
   * @throws {OutOfMemoryError} ERR_MEMKIT_OUT_OF_MEMORY.
   * @example
   * ```ts
   * using buf = Owned.alloc(heap, 256);
   * ```
   */
  static alloc(heap: Heap, bytes: number): Owned {
    return new Owned(heap, heap.malloc(bytes));
  }

  /**
   * Writes a C string and owns it.
   * @param heap The heap.
   * @param text The string.
   * @returns The handle.
   * @example
   * ```ts
   * using s = Owned.cString(heap, "path/to/file");
   * ```
   */
  static cString(heap: Heap, text: string): Owned {
    return new Owned(heap, writeCString(heap, text));
  }

  /**
   * Takes ownership of a block C allocated and handed over.
   * @param heap The heap it was allocated from.
   * @param ptr The pointer (must be a live block no other handle owns).
   * @returns The handle.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER for 0, a non-integer or a pointer that is not a live block.
   * @throws {AlreadyOwnedError} ERR_MEMKIT_ALREADY_OWNED when another `Owned` handle owns it.
   * @throws {FreedPointerError} ERR_MEMKIT_USE_AFTER_FREE when its block was already freed.
   * @example
   * ```ts
   * using result = Owned.fromRaw(heap, exports.compute());
   * ```
   */
  static fromRaw(heap: Heap, ptr: number): Owned {
    if (typeof ptr !== "number" || ptr >>> 0 !== ptr)
      throw new InvalidPointerError(ptr, `a pointer is a whole number from 1, got ${String(ptr)}`);
    if (ptr === 0) throw new InvalidPointerError(ptr, "NULL cannot be owned");
    if (ownedByHeap.get(heap)?.has(ptr)) throw new AlreadyOwnedError(ptr);
    try {
      heap.usableSize(ptr);
    } catch (error) {
      // The heap says "already freed" in words about freeing; here it is taking ownership.
      if ((error as { code?: string }).code === "ERR_MEMKIT_DOUBLE_FREE") throw new FreedPointerError(ptr);
      throw error;
    }
    return new Owned(heap, ptr);
  }

  /** True while this handle owns its memory. */
  get isOwned(): boolean {
    return this.#ptr !== 0;
  }

  /**
   * The pointer, for passing to C *without* giving ownership away.
   * @throws {MovedError} ERR_MEMKIT_MOVED after `intoRaw()` or `free()`.
   */
  get ptr(): number {
    if (this.#ptr === 0) throw new MovedError("read the pointer");
    return this.#ptr;
  }

  /**
   * Gives the ownership away: returns the pointer and empties the handle (nothing will free it here).
   * @returns The pointer, now owned by the receiver.
   * @throws {MovedError} ERR_MEMKIT_MOVED when already moved or freed.
   * @example
   * ```ts
   * exports.take_string(owned.intoRaw());
   * ```
   */
  intoRaw(): number {
    const ptr = this.ptr;
    this.#ptr = 0;
    ownedByHeap.get(this.#heap)?.delete(ptr);
    return ptr;
  }

  /**
   * Frees the memory now.
   * @throws {MovedError} ERR_MEMKIT_MOVED when already moved or freed.
   * @example
   * ```ts
   * owned.free();
   * ```
   */
  free(): void {
    const ptr = this.ptr;
    this.#ptr = 0;
    ownedByHeap.get(this.#heap)?.delete(ptr);
    this.#heap.free(ptr);
  }

  /** Frees the memory at the end of a `using` scope if still owned. */
  [Symbol.dispose](): void {
    if (this.#ptr !== 0) this.free();
  }
}
