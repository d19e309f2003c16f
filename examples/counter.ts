/**
 * The classic fallible-collections example, ported from Rust: a counter mapping u32 keys to
 * vectors of u32 values, whose `pushKeyValue` never panics on out-of-memory. Every step that can
 * fail is done before anything is changed, or undone, so after a failure the counter holds
 * exactly the pairs that were pushed successfully.
 */
import { type Allocator, type AllocError, HeapIntMap, HeapVec } from "memkit/fallible";

export class Counter {
  /** key -> index into `values` (the vectors themselves live in heap memory). */
  readonly #index: HeapIntMap<Uint32ArrayConstructor>;
  readonly #values: HeapVec<Uint32ArrayConstructor>[] = [];
  readonly #alloc: Allocator;

  constructor(alloc: Allocator) {
    this.#alloc = alloc;
    this.#index = new HeapIntMap(alloc, Uint32Array);
  }

  /** Appends `value` to `key`'s vector; on failure returns the error and changes nothing. */
  pushKeyValue(key: number, value: number): { ok: true } | { ok: false; error: AllocError | undefined } {
    const slot = this.#index.get(key);
    if (slot !== undefined) {
      const vec = this.#values[slot] as HeapVec<Uint32ArrayConstructor>;
      return vec.tryPush(value) ? { ok: true } : { ok: false, error: vec.lastError };
    }
    const vec = new HeapVec(this.#alloc, Uint32Array);
    if (!vec.tryPush(value)) return { ok: false, error: vec.lastError };
    if (!this.#index.tryInsert(key, this.#values.length)) {
      vec.free(); // undo: the key must not appear with a vector it never got
      return { ok: false, error: this.#index.lastError };
    }
    this.#values.push(vec);
    return { ok: true };
  }

  /** The values pushed for `key`. */
  get(key: number): number[] {
    const slot = this.#index.get(key);
    return slot === undefined ? [] : (this.#values[slot] as HeapVec<Uint32ArrayConstructor>).toArray();
  }

  /** Every key with its values, sorted by key. */
  toJSON(): [number, number[]][] {
    return [...this.#index.entries()]
      .map(([key]) => [key, this.get(key)] as [number, number[]])
      .sort((a, b) => a[0] - b[0]);
  }

  free(): void {
    for (const vec of this.#values) vec.free();
    this.#values.length = 0;
    this.#index.free();
  }
}
