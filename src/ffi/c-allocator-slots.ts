import type { CAllocatorFunctions } from "../heap/index.js";
import { EmbeddedWasm } from "../internal/embedded-wasm.js";
import { SLOTS_WASM } from "./c-allocator-slots-wasm.js";

interface Table {
  set(index: number, value: unknown): void;
}

type SlotsExports = CAllocatorFunctions & {
  readonly slots: Table;
  readonly js_malloc: unknown;
  readonly js_free: unknown;
  readonly js_calloc: unknown;
  readonly js_realloc: unknown;
};

const slotsModule = new EmbeddedWasm(SLOTS_WASM);

/**
 * C's malloc/free/calloc/realloc as WebAssembly functions that call through four table slots
 * (wasm/c-allocator-slots.wat). A C module must get its imports when it is instantiated, before
 * its memory, and so its heap, exist; the slots let memkit point C at the heap's WebAssembly
 * engine afterwards (no JavaScript on C's fast path), and back at the JavaScript functions.
 */
export class CAllocatorSlots {
  /** What the C module imports. */
  readonly imports: CAllocatorFunctions;
  readonly #exports: SlotsExports;

  private constructor(exports: SlotsExports) {
    this.#exports = exports;
    this.imports = { malloc: exports.malloc, free: exports.free, calloc: exports.calloc, realloc: exports.realloc };
  }

  /** Slots that start at `js`, or undefined where WebAssembly cannot compile them (then import `js` itself). */
  static create(js: CAllocatorFunctions): CAllocatorSlots | undefined {
    const exports = slotsModule.instantiate({ js }) as SlotsExports | undefined;
    return exports === undefined ? undefined : new CAllocatorSlots(exports);
  }

  /** Points C's calls at `to` (WebAssembly functions, e.g. `Heap.wasmAllocator`'s), or back at the JavaScript ones. */
  route(to: CAllocatorFunctions | undefined): void {
    const e = this.#exports;
    e.slots.set(0, to?.malloc ?? e.js_malloc);
    e.slots.set(1, to?.free ?? e.js_free);
    e.slots.set(2, to?.calloc ?? e.js_calloc);
    e.slots.set(3, to?.realloc ?? e.js_realloc);
  }
}
