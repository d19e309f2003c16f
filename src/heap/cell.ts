import { UseAfterFreeError } from "./errors.js";

/** Every typed array constructor (integer, float and bigint element types). */
export type NumericArrayType =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/** A typed array constructor, or `DataView`, that a cell can be made of. */
export type CellType = NumericArrayType | DataViewConstructor;

/** The view type a cell of `T` hands out. */
export type ViewOf<T extends CellType> = T extends DataViewConstructor ? DataView : InstanceType<T>;

/** What a cell needs from its heap (kept narrow so cells do not reach into heap internals). */
export interface CellOwner {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  free(ptr: number): void;
}

/** The cells of one heap object: the last serial handed out and the serial ranges `restore` revoked. */
export interface CellLedger {
  serial: number;
  readonly revoked: [number, number][];
}

type AnyCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView;

/**
 * A block of a heap with a typed view over exactly its bytes. Free it with `free()` or let a
 * `using` declaration free it at the end of the scope, as Rust's `Drop` would. A freed cell
 * refuses every use with `UseAfterFreeError`.
 *
 * @example
 * ```ts
 * {
 *   using samples = heap.alloc(Float32Array, 48000);
 *   samples.view.fill(0.5);
 * } // freed here
 * ```
 */
export class Cell<V extends ArrayBufferView = ArrayBufferView> {
  /** Pointer (byte offset) of the block in the heap's memory. */
  readonly ptr: number;
  /** Number of elements (bytes for a DataView). */
  readonly length: number;
  /** Size of the cell's data in bytes. */
  readonly byteLength: number;
  readonly #serial: number;
  readonly #owner: CellOwner;
  readonly #ledger: CellLedger;
  readonly #type: AnyCtor;
  #view: V | undefined;
  #freed = false;

  /** @internal Created by `heap.alloc`. */
  constructor(owner: CellOwner, ledger: CellLedger, type: unknown, ptr: number, length: number, serial: number) {
    this.#owner = owner;
    this.#ledger = ledger;
    this.#type = type as AnyCtor;
    this.ptr = ptr;
    this.length = length;
    const element = (type as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    this.byteLength = length * element;
    this.#serial = serial;
  }

  /** True once freed (by `free()`, `using`, or a heap `restore` that predates the cell). */
  get freed(): boolean {
    if (this.#freed) return true;
    const revoked = this.#ledger.revoked;
    for (let i = 0; i < revoked.length; i++) {
      const range = revoked[i] as readonly [number, number];
      if (this.#serial > range[0] && this.#serial <= range[1]) {
        this.#freed = true;
        return true;
      }
    }
    return false;
  }

  /**
   * A typed view over exactly this block; re-created transparently when the heap's memory was
   * replaced by growth (a WebAssembly memory detaches its old buffer).
   *
   * @throws {UseAfterFreeError} ERR_MEMKIT_USE_AFTER_FREE after the cell was freed.
   */
  get view(): V {
    if (this.#freed || this.#ledger.revoked.length !== 0) {
      if (this.freed) throw new UseAfterFreeError(this.ptr, "read the view of");
    }
    const buffer = this.#owner.buffer;
    let view = this.#view;
    if (view === undefined || view.buffer !== buffer) {
      view = new this.#type(buffer, this.ptr, this.length) as V;
      this.#view = view;
    }
    return view;
  }

  /**
   * Frees the block. A second call throws.
   *
   * @throws {UseAfterFreeError} ERR_MEMKIT_USE_AFTER_FREE when already freed.
   */
  free(): void {
    if (this.freed) throw new UseAfterFreeError(this.ptr, "free");
    this.#freed = true;
    this.#view = undefined;
    this.#owner.free(this.ptr);
  }

  /** Frees the block at the end of a `using` scope (no error if it was already freed). */
  [Symbol.dispose](): void {
    if (!this.freed) this.free();
  }
}
