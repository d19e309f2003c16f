import type { Allocator } from "./allocator.js";
import { AllocError } from "./errors.js";
import {
  type ArrayOf,
  checkAllocator,
  checkNumericType,
  type ElementOf,
  MAX_BLOCK_BYTES,
  type NumericType,
} from "./numeric.js";

/**
 * A growable vector of numbers stored in a memkit heap (no garbage-collector pressure), with
 * fallible growth like Rust's `try_reserve`: `tryPush` and `tryReserve` return false and leave
 * the vector exactly as it was when memory cannot be had; `lastError` says why.
 *
 * @example
 * ```ts
 * using v = new HeapVec(alloc, Float64Array);
 * if (!v.tryPush(1.5)) console.log(v.lastError?.kind);
 * ```
 */
export class HeapVec<C extends NumericType> {
  /** Why the last `try*` call returned false. */
  lastError: AllocError | undefined = undefined;
  readonly #alloc: Allocator;
  readonly #type: C;
  readonly #size: number;
  #ptr = 0;
  #length = 0;
  #capacity = 0;
  #view: ArrayOf<C> | undefined;

  /**
   * @param allocator Where the elements live.
   * @param type The element type.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for a non-allocator or a non-typed-array type.
   */
  constructor(allocator: Allocator, type: C) {
    this.#alloc = checkAllocator(allocator, "HeapVec");
    this.#type = checkNumericType(type, "HeapVec");
    this.#size = type.BYTES_PER_ELEMENT;
  }

  /** Number of elements. */
  get length(): number {
    return this.#length;
  }

  /** Elements that fit without growing. */
  get capacity(): number {
    return this.#capacity;
  }

  /** The block's pointer (0 before the first allocation). */
  get ptr(): number {
    return this.#ptr;
  }

  /** A typed view of the elements (a new view each time; it goes stale when the vector grows). */
  get view(): ArrayOf<C> {
    return this.#data().subarray(0, this.#length) as ArrayOf<C>;
  }

  /** The whole block as a typed array, re-made when the block or the heap's memory moved. */
  #data(): ArrayOf<C> {
    const buffer = this.#alloc.heap.u8.buffer;
    let view = this.#view;
    if (view === undefined || view.buffer !== buffer) {
      view = new this.#type(buffer as ArrayBuffer, this.#ptr, this.#capacity) as ArrayOf<C>;
      this.#view = view;
    }
    return view;
  }

  /**
   * Makes room for `additional` more elements, or returns false and changes nothing.
   * @param additional Elements to make room for.
   * @returns True on success.
   * @example
   * ```ts
   * if (!v.tryReserve(1000)) return v.lastError;
   * ```
   */
  tryReserve(additional: number): boolean {
    const needed = this.#length + additional;
    if (needed <= this.#capacity) return true;
    const max = Math.floor(MAX_BLOCK_BYTES / this.#size);
    if (!Number.isInteger(additional) || additional < 0 || needed > max) {
      this.lastError = new AllocError("capacity-overflow", needed * this.#size, max);
      return false;
    }
    const capacity = Math.min(max, Math.max(needed, this.#capacity * 2, 4));
    const bytes = capacity * this.#size;
    const ptr =
      this.#ptr === 0
        ? this.#alloc.tryMalloc(bytes, Math.max(8, this.#size))
        : this.#alloc.tryRealloc(this.#ptr, bytes);
    if (ptr === 0) {
      this.lastError = this.#alloc.lastError;
      return false;
    }
    this.#ptr = ptr;
    this.#capacity = capacity;
    this.#view = undefined;
    return true;
  }

  /**
   * Like `tryReserve`, but throws.
   * @param additional Elements to make room for.
   * @throws {AllocError} ERR_MEMKIT_ALLOC_FAILED.
   * @example
   * ```ts
   * v.reserve(1000);
   * ```
   */
  reserve(additional: number): void {
    if (!this.tryReserve(additional)) throw this.lastError;
  }

  /**
   * Appends `value`, or returns false and changes nothing when the vector cannot grow.
   * @param value The element.
   * @returns True on success.
   * @example
   * ```ts
   * v.tryPush(42);
   * ```
   */
  tryPush(value: ElementOf<C>): boolean {
    if (this.#length === this.#capacity && !this.tryReserve(1)) return false;
    const index = this.#length++;
    this.#write(index, value);
    return true;
  }

  /**
   * Appends `value` or throws.
   * @param value The element.
   * @throws {AllocError} ERR_MEMKIT_ALLOC_FAILED.
   * @example
   * ```ts
   * v.push(42);
   * ```
   */
  push(value: ElementOf<C>): void {
    if (!this.tryPush(value)) throw this.lastError;
  }

  #write(index: number, value: ElementOf<C>): void {
    (this.#data() as unknown as ElementOf<C>[])[index] = value;
  }

  /**
   * The element at `index`, or undefined past the end.
   * @param index Position.
   * @returns The element.
   * @example
   * ```ts
   * v.get(0);
   * ```
   */
  get(index: number): ElementOf<C> | undefined {
    if (!(index >= 0 && index < this.#length)) return undefined;
    return (this.#data() as unknown as ElementOf<C>[])[index];
  }

  /**
   * Removes and returns the last element.
   * @returns The element, or undefined when empty.
   * @example
   * ```ts
   * v.pop();
   * ```
   */
  pop(): ElementOf<C> | undefined {
    if (this.#length === 0) return undefined;
    const value = this.get(this.#length - 1);
    this.#length--;
    return value;
  }

  /**
   * The elements as a plain array.
   * @returns A copy.
   * @example
   * ```ts
   * v.toArray();
   * ```
   */
  toArray(): ElementOf<C>[] {
    return Array.from(this.view as unknown as ArrayLike<ElementOf<C>>);
  }

  /**
   * Frees the block; the vector is empty afterwards and may be used again.
   * @example
   * ```ts
   * v.free();
   * ```
   */
  free(): void {
    if (this.#ptr !== 0) this.#alloc.free(this.#ptr);
    this.#ptr = 0;
    this.#length = 0;
    this.#capacity = 0;
    this.#view = undefined;
  }

  /** Frees the block at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.free();
  }
}
