import type { Heap, WasmMemory } from "../heap/index.js";
import { ForeignAllocatorError, ForeignModuleError } from "./errors.js";
import type { WasmMutableGlobal } from "./wasm-types.js";

/** Bytes of random canary memkit keeps at `__heap_base`, below its heap's header. */
export const CANARY_BYTES = 16;

/**
 * The allocator C's malloc/free go through: a memkit heap, or a layer over it (a budget, a fault
 * injector from `memkit/fallible`: its `Allocator` has this shape).
 */
export interface CAllocator {
  /** The heap at the bottom (it must be the module's own heap). */
  readonly heap: Heap;
  /** A block, or 0. */
  tryMalloc(bytes: number): number;
  /** The block resized (maybe moved), or 0 with the old block untouched. */
  tryRealloc(ptr: number, bytes: number): number;
  /** Frees a block. */
  free(ptr: number): void;
}

/** What happens when C frees a pointer that is not a live block (double or invalid free). */
export type CErrorPolicy = "defer" | "trap";

/** A memkit error that may carry the errors recorded after it in the same call. */
type WithSuppressed = Error & { suppressed?: unknown[] };

/**
 * The state shared by the allocator imports and the export wrappers of one instance: errors C
 * caused (thrown when control returns to JavaScript), the canary that shows a foreign allocator
 * wrote over memkit's heap, the memory size memkit knows about, and C's stack pointer to restore
 * after an exception unwound C.
 */
export class Boundary {
  /** Nesting of calls into the module (C may call JavaScript, which may call C again). */
  depth = 0;
  /** The allocator C uses (undefined: the heap itself, the fast path). */
  allocator: CAllocator | undefined = undefined;
  /** Errors C caused since control left JavaScript. */
  pending: Error[] | undefined = undefined;
  /** Set when a foreign allocator was found: every later call fails with it. */
  broken: Error | undefined = undefined;
  /** The export JavaScript called (the outermost call), to say where C's errors happened. */
  entry = "";
  /** Allocations from C that returned NULL. */
  failedAllocations = 0;
  /** The buffer memkit last saw (detached once the memory grows); a stand-in until `attach`. */
  known: ArrayBuffer | SharedArrayBuffer = new ArrayBuffer(8);
  /** The canary words, over `known`. */
  view: Int32Array = new Int32Array(0);
  // Set by attach(), which instantiateWithHeap calls before any export can run; until then
  // `broken` is set, so the allocator imports refuse without touching these.
  heap!: Heap;
  memory!: WasmMemory;
  readonly policy: CErrorPolicy;
  readonly checkOnReturn: boolean;
  #canaryAt = 0;
  readonly #words = new Int32Array(CANARY_BYTES >> 2);
  #stackPointer: WasmMutableGlobal | undefined;
  #heapLimit = 0;
  #stackTop: unknown;

  constructor(policy: CErrorPolicy, checkOnReturn: boolean) {
    this.policy = policy;
    this.checkOnReturn = checkOnReturn;
    this.broken = new ForeignModuleError(
      "The module called malloc/free while it was being instantiated (a start function), before memkit's heap exists",
    );
  }

  /**
   * Starts serving: the heap over the module's memory, the canary written at `canaryAt`, C's
   * stack pointer (if exported) and the end the heap may never pass (its maxBytes).
   */
  attach(
    heap: Heap,
    memory: WasmMemory,
    canaryAt: number,
    stackPointer: WasmMutableGlobal | undefined,
    heapLimit: number,
  ): void {
    this.heap = heap;
    this.memory = memory;
    this.#canaryAt = canaryAt;
    this.#stackPointer = stackPointer;
    this.#stackTop = stackPointer?.value;
    this.#heapLimit = heapLimit;
    for (let i = 0; i < this.#words.length; i++) this.#words[i] = (Math.random() * 2 ** 32) | 0;
    this.known = memory.buffer;
    this.view = new Int32Array(this.known, canaryAt, CANARY_BYTES >> 2);
    this.view.set(this.#words);
    this.broken = undefined;
  }

  /** True when the canary is intact (the view is re-made first if the memory grew). */
  canaryIntact(): boolean {
    if (this.view.length === 0) this.view = new Int32Array(this.memory.buffer, this.#canaryAt, CANARY_BYTES >> 2);
    const v = this.view;
    const w = this.#words;
    return v[0] === w[0] && v[1] === w[1] && v[2] === w[2] && v[3] === w[3];
  }

  /** Records an error C caused (C carries on); thrown when control returns to JavaScript. */
  record(error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    e.message += ` (from C, during ${this.entry}())`;
    if (this.pending === undefined) this.pending = [e];
    else if (this.pending.length < 64) this.pending.push(e);
  }

  /** Makes `this.broken` (if not yet) and refuses the rest of the call. */
  poison(error: Error): void {
    this.broken ??= error;
    this.reroute();
  }

  /** Whether C may allocate from the heap's engine directly: no allocator layer, not poisoned. */
  get servesDirectly(): boolean {
    return this.allocator === undefined && this.broken === undefined;
  }

  /**
   * Re-points C's allocator imports after `allocator` or `broken` changed (set by
   * instantiateWithHeap when C calls the heap's WebAssembly engine directly; else nothing to do).
   */
  reroute: () => void = () => {};

  /**
   * The memory grew. During a heap call, memkit grew it. Otherwise it was memkit from JavaScript
   * (the heap's region then reaches the new end) or the module itself with its own allocator.
   */
  memoryMoved(byHeap: boolean): void {
    const buffer = this.memory.buffer;
    this.known = buffer;
    if (byHeap) return;
    let end: number;
    try {
      end = this.heap.base + this.heap.stats().capacity;
    } catch (error) {
      // The heap's own structures are damaged: something else wrote there (never thrown into C).
      this.poison(
        new ForeignAllocatorError("heap-overwritten", `memkit's heap was overwritten: ${(error as Error).message}`),
      );
      return;
    }
    // Growth past the heap's limit is harmless: the heap never reaches that memory.
    if (end >= buffer.byteLength || end >= this.#heapLimit) return;
    this.poison(
      new ForeignAllocatorError(
        "memory-grown",
        `The module grew its memory itself (to ${buffer.byteLength} bytes) while memkit's heap ends at ${end}: it allocates with an allocator of its own (sbrk / memory.grow), and memkit's heap would hand the same memory out again`,
      ),
    );
  }

  /** Called when the outermost call returns normally with something to report: throws it. */
  settle(): void {
    if (this.broken === undefined && !this.canaryIntact())
      this.poison(
        new ForeignAllocatorError(
          "heap-overwritten",
          `Something in the module wrote over memkit's heap at __heap_base (${this.#canaryAt}) during this call: most likely an allocator of its own (wasi-libc's malloc, or a library whose allocator hooks are not installed yet)`,
        ),
      );
    if (this.broken === undefined && this.known.byteLength === 0) this.memoryMoved(false);
    if (this.broken !== undefined) {
      this.pending = undefined;
      throw this.broken;
    }
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      throw this.#first(pending, undefined);
    }
    if (this.checkOnReturn) this.heap.check();
  }

  /** An exception left the outermost call: C was unwound. Puts its stack back and says what to throw. */
  unwound(error: unknown): unknown {
    if (this.#stackPointer !== undefined) this.#stackPointer.value = this.#stackTop;
    else
      this.poison(
        new ForeignModuleError(
          "An exception unwound the module's C code and it exports no __stack_pointer, so memkit cannot restore C's stack: the instance is unusable. Link with -Wl,--export=__stack_pointer",
        ),
      );
    const pending = this.pending;
    this.pending = undefined;
    return pending === undefined ? error : this.#first(pending, error);
  }

  #first(errors: Error[], also: unknown): Error {
    const [first, ...rest] = errors as [WithSuppressed, ...Error[]];
    const suppressed: unknown[] = also === undefined || also === first ? rest : [...rest, also];
    if (suppressed.length > 0)
      Object.defineProperty(first, "suppressed", { value: suppressed, configurable: true, writable: true });
    return first;
  }
}
