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
 * Table layout, one heap block per table (so a resize is one allocation that either happens or
 * leaves the map untouched):
 * ```
 *   ptr                     ptr + keysAt              ptr + valuesAt
 *   | state: u8 x cap (pad) | key: u32 x cap (pad to 8) | value: V x cap |
 * ```
 * Open addressing, linear probing, Fibonacci hashing; state 0 empty, 1 full, 2 deleted. The
 * table doubles when full + deleted slots pass 3/4 of the capacity.
 */
const EMPTY = 0;
const FULL = 1;
const DELETED = 2;
const MIN_CAPACITY = 8;

interface Table<C extends NumericType> {
  ptr: number;
  capacity: number;
  shift: number;
  states: Uint8Array;
  keys: Uint32Array;
  values: ArrayOf<C>;
}

function layout(capacity: number, valueSize: number): { keysAt: number; valuesAt: number; bytes: number } {
  const keysAt = (capacity + 7) & -8;
  const valuesAt = (keysAt + capacity * 4 + 7) & -8;
  return { keysAt, valuesAt, bytes: valuesAt + capacity * valueSize };
}

/**
 * A hash map from u32 keys to numbers, stored in a memkit heap: no per-entry objects, no garbage
 * collector work, and about a third of a JS `Map`'s memory. `tryInsert` and `tryReserve` return
 * false and leave the map unchanged when memory cannot be had.
 *
 * @example
 * ```ts
 * using counts = new HeapIntMap(alloc, Uint32Array);
 * counts.tryInsert(42, 1);
 * counts.get(42); // 1
 * ```
 */
export class HeapIntMap<C extends NumericType> {
  /** Why the last `try*` call returned false. */
  lastError: AllocError | undefined = undefined;
  readonly #alloc: Allocator;
  readonly #type: C;
  #table: Table<C> | undefined;
  #buffer: ArrayBufferLike | undefined;
  #size = 0;
  #used = 0;

  /**
   * @param allocator Where the table lives.
   * @param type The value type.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for a non-allocator or a non-typed-array type.
   */
  constructor(allocator: Allocator, type: C) {
    this.#alloc = checkAllocator(allocator, "HeapIntMap");
    this.#type = checkNumericType(type, "HeapIntMap");
  }

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Slots in the table. */
  get capacity(): number {
    return this.#table?.capacity ?? 0;
  }

  #views(ptr: number, capacity: number): Table<C> {
    const buffer = this.#alloc.heap.u8.buffer as ArrayBuffer;
    const { keysAt, valuesAt } = layout(capacity, this.#type.BYTES_PER_ELEMENT);
    return {
      ptr,
      capacity,
      shift: 32 - Math.log2(capacity),
      states: new Uint8Array(buffer, ptr, capacity),
      keys: new Uint32Array(buffer, ptr + keysAt, capacity),
      values: new this.#type(buffer, ptr + valuesAt, capacity) as ArrayOf<C>,
    };
  }

  /** The table, with views re-made if the heap's memory moved. */
  #current(): Table<C> | undefined {
    const table = this.#table;
    if (table === undefined) return undefined;
    const buffer = this.#alloc.heap.u8.buffer;
    if (buffer !== this.#buffer) {
      this.#table = this.#views(table.ptr, table.capacity);
      this.#buffer = buffer;
    }
    return this.#table;
  }

  #slot(table: Table<C>, key: number): number {
    const mask = table.capacity - 1;
    const { states, keys } = table;
    for (let i = Math.imul(key, 0x9e3779b1) >>> table.shift; ; i = (i + 1) & mask) {
      const state = states[i];
      if (state === EMPTY) return -1 - i;
      if (state === FULL && keys[i] === key) return i;
    }
  }

  /**
   * Makes room for `additional` more entries without growing later, or returns false.
   * @param additional Entries to make room for.
   * @returns True on success.
   * @example
   * ```ts
   * map.tryReserve(1_000_000);
   * ```
   */
  tryReserve(additional: number): boolean {
    const needed = this.#size + additional;
    const current = this.capacity;
    if (current > 0 && (needed + (this.#used - this.#size)) * 4 <= current * 3) return true;
    let capacity = MIN_CAPACITY;
    while (capacity * 3 < needed * 4) capacity *= 2;
    return this.#rehash(Math.max(capacity, current));
  }

  /**
   * Like `tryReserve`, but throws.
   * @param additional Entries.
   * @throws {AllocError} ERR_MEMKIT_ALLOC_FAILED.
   * @example
   * ```ts
   * map.reserve(1000);
   * ```
   */
  reserve(additional: number): void {
    if (!this.tryReserve(additional)) throw this.lastError;
  }

  #rehash(capacity: number): boolean {
    const size = this.#type.BYTES_PER_ELEMENT;
    const { bytes } = layout(capacity, size);
    if (bytes > MAX_BLOCK_BYTES) {
      this.lastError = new AllocError("capacity-overflow", bytes, MAX_BLOCK_BYTES);
      return false;
    }
    const ptr = this.#alloc.tryMalloc(bytes, 8);
    if (ptr === 0) {
      this.lastError = this.#alloc.lastError;
      return false;
    }
    const old = this.#current();
    const next = this.#views(ptr, capacity);
    next.states.fill(EMPTY);
    if (old !== undefined) {
      const { states, keys, values } = old;
      for (let i = 0; i < old.capacity; i++) {
        if (states[i] !== FULL) continue;
        const slot = -1 - this.#slot(next, keys[i] as number);
        next.states[slot] = FULL;
        next.keys[slot] = keys[i] as number;
        (next.values as unknown as ElementOf<C>[])[slot] = (values as unknown as ElementOf<C>[])[i] as ElementOf<C>;
      }
      this.#alloc.free(old.ptr);
    }
    this.#table = this.#views(ptr, capacity);
    this.#buffer = this.#alloc.heap.u8.buffer;
    this.#used = this.#size;
    return true;
  }

  /**
   * Sets `key` to `value`, or returns false and changes nothing when the table cannot grow.
   * @param key A u32 key.
   * @param value The value.
   * @returns True on success.
   * @example
   * ```ts
   * if (!map.tryInsert(7, 1)) console.log(map.lastError?.kind);
   * ```
   */
  tryInsert(key: number, value: ElementOf<C>): boolean {
    if (key >>> 0 !== key) {
      this.lastError = new AllocError("capacity-overflow", 0, 0, `key ${key} is not a u32`);
      return false;
    }
    let table = this.#current();
    if (table !== undefined) {
      const found = this.#slot(table, key);
      if (found >= 0) {
        (table.values as unknown as ElementOf<C>[])[found] = value;
        return true;
      }
    }
    if (!this.tryReserve(1)) return false;
    table = this.#current() as Table<C>;
    const slot = -1 - this.#slot(table, key);
    table.states[slot] = FULL;
    table.keys[slot] = key;
    (table.values as unknown as ElementOf<C>[])[slot] = value;
    this.#size++;
    this.#used++;
    return true;
  }

  /**
   * Sets `key` to `value` or throws.
   * @param key A u32 key.
   * @param value The value.
   * @throws {AllocError} ERR_MEMKIT_ALLOC_FAILED.
   * @example
   * ```ts
   * map.insert(7, 1);
   * ```
   */
  insert(key: number, value: ElementOf<C>): void {
    if (!this.tryInsert(key, value)) throw this.lastError;
  }

  /**
   * The value of `key`, or undefined.
   * @param key A u32 key.
   * @returns The value.
   * @example
   * ```ts
   * map.get(7);
   * ```
   */
  get(key: number): ElementOf<C> | undefined {
    const table = this.#current();
    if (table === undefined || key >>> 0 !== key) return undefined;
    const slot = this.#slot(table, key);
    return slot < 0 ? undefined : (table.values as unknown as ElementOf<C>[])[slot];
  }

  /**
   * Whether `key` is present.
   * @param key A u32 key.
   * @returns True when present.
   * @example
   * ```ts
   * map.has(7);
   * ```
   */
  has(key: number): boolean {
    const table = this.#current();
    return table !== undefined && key >>> 0 === key && this.#slot(table, key) >= 0;
  }

  /**
   * Removes `key`.
   * @param key A u32 key.
   * @returns True when it was present.
   * @example
   * ```ts
   * map.delete(7);
   * ```
   */
  delete(key: number): boolean {
    const table = this.#current();
    if (table === undefined || key >>> 0 !== key) return false;
    const slot = this.#slot(table, key);
    if (slot < 0) return false;
    table.states[slot] = DELETED;
    this.#size--;
    return true;
  }

  /**
   * Every entry, in table order.
   * @returns Generator of `[key, value]`.
   * @example
   * ```ts
   * for (const [k, v] of map.entries()) console.log(k, v);
   * ```
   */
  *entries(): Generator<[number, ElementOf<C>]> {
    const table = this.#current();
    if (table === undefined) return;
    for (let i = 0; i < table.capacity; i++) {
      if (table.states[i] === FULL) {
        yield [table.keys[i] as number, (table.values as unknown as ElementOf<C>[])[i] as ElementOf<C>];
      }
    }
  }

  /**
   * Frees the table; the map is empty afterwards and may be used again.
   * @example
   * ```ts
   * map.free();
   * ```
   */
  free(): void {
    if (this.#table !== undefined) this.#alloc.free(this.#table.ptr);
    this.#table = undefined;
    this.#size = 0;
    this.#used = 0;
  }

  /** Frees the table at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.free();
  }
}
