import type { Heap } from "../heap/index.js";
import { InvalidPointerError } from "../heap/index.js";
import { writeCString } from "./c-string.js";
import { MovedError } from "./errors.js";

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
   * @param ptr The pointer (must be a live block).
   * @returns The handle.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER for 0 or a pointer that is not a live block.
   * @example
   * ```ts
   * using result = Owned.fromRaw(heap, exports.compute());
   * ```
   */
  static fromRaw(heap: Heap, ptr: number): Owned {
    if (ptr === 0) throw new InvalidPointerError(ptr, "NULL cannot be owned");
    heap.usableSize(ptr);
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
    this.#heap.free(ptr);
  }

  /** Frees the memory at the end of a `using` scope if still owned. */
  [Symbol.dispose](): void {
    if (this.#ptr !== 0) this.free();
  }
}
