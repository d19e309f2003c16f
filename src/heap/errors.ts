import {
  InvalidSizeError,
  MemkitError,
  MemkitRangeError,
  MemkitTypeError,
  registerErrorClasses,
  SharedMemoryUnavailableError,
} from "../internal/errors.js";

export { InvalidSizeError, SharedMemoryUnavailableError };

/**
 * The heap has no free block large enough and cannot grow. Recoverable: free something, or
 * use `tryMalloc`, which returns `0` instead.
 *
 * @example
 * ```ts
 * try { heap.malloc(1 << 30); } catch (e) { if (e instanceof OutOfMemoryError) console.log(e.largestFreeBlock); }
 * ```
 */
export class OutOfMemoryError extends MemkitError {
  /** Bytes asked for. */
  readonly requested: number;
  /** Free bytes in the heap when the request failed. */
  readonly freeBytes: number;
  /** Largest single free block when the request failed. */
  readonly largestFreeBlock: number;
  /** @param requested Bytes asked for. @param freeBytes Free bytes. @param largestFreeBlock Largest free block. */
  constructor(requested: number, freeBytes: number, largestFreeBlock: number) {
    super(
      "ERR_MEMKIT_OUT_OF_MEMORY",
      `Cannot allocate ${requested} bytes: the heap has ${freeBytes} bytes free, the largest free block holds ${largestFreeBlock}, and it cannot grow further. Free memory, raise maxBytes, or use tryMalloc to handle it as a value.`,
    );
    this.requested = requested;
    this.freeBytes = freeBytes;
    this.largestFreeBlock = largestFreeBlock;
  }
}

/**
 * A pointer is not the start of a live block of this heap (out of range, misaligned, or
 * pointing into the middle of a block or at unallocated memory).
 *
 * @example
 * ```ts
 * try { heap.free(12345); } catch (e) { if (e instanceof InvalidPointerError) console.log(e.pointer); }
 * ```
 */
export class InvalidPointerError extends MemkitRangeError {
  /** The offending pointer. */
  readonly pointer: number;
  /** @param pointer The pointer. @param reason Why it is not valid. */
  constructor(pointer: number, reason: string) {
    super("ERR_MEMKIT_INVALID_POINTER", `Pointer ${pointer} is not the start of a live block of this heap: ${reason}`);
    this.pointer = pointer;
  }
}

/**
 * A block was freed twice. The heap is left untouched by the second free.
 *
 * @example
 * ```ts
 * heap.free(p);
 * try { heap.free(p); } catch (e) { if (e instanceof DoubleFreeError) console.log(e.pointer); }
 * ```
 */
export class DoubleFreeError extends MemkitError {
  /** The pointer freed twice. */
  readonly pointer: number;
  /** @param pointer The pointer. */
  constructor(pointer: number) {
    super("ERR_MEMKIT_DOUBLE_FREE", `Cannot free pointer ${pointer}: it was already freed`);
    this.pointer = pointer;
  }
}

/**
 * A cell was used after it was freed.
 *
 * @example
 * ```ts
 * cell.free();
 * try { cell.view; } catch (e) { if (e instanceof UseAfterFreeError) console.log(e.pointer); }
 * ```
 */
export class UseAfterFreeError extends MemkitError {
  /** The pointer the cell held. */
  readonly pointer: number;
  /** @param pointer The pointer. @param action What was attempted. */
  constructor(pointer: number, action: string) {
    super("ERR_MEMKIT_USE_AFTER_FREE", `Cannot ${action} the cell at pointer ${pointer}: it was already freed`);
    this.pointer = pointer;
  }
}

/**
 * The heap's structures are damaged: found by `heap.check()` or by a red zone in debug mode.
 * `offset` is where the damage was seen.
 *
 * @example
 * ```ts
 * try { heap.check(); } catch (e) { if (e instanceof HeapCorruptionError) console.log(e.offset, e.message); }
 * ```
 */
export class HeapCorruptionError extends MemkitError {
  /** Byte offset in the buffer where the damage was seen. */
  readonly offset: number;
  /** @param offset Where. @param what What is wrong. */
  constructor(offset: number, what: string) {
    super("ERR_MEMKIT_HEAP_CORRUPTION", `Heap corrupted at offset ${offset}: ${what}`);
    this.offset = offset;
  }
}

/**
 * A buffer given to `Heap.attach` holds no memkit heap at that offset.
 *
 * @example
 * ```ts
 * try { Heap.attach(new ArrayBuffer(64)); } catch (e) { if (e instanceof NotAHeapError) console.log(e.code); }
 * ```
 */
export class NotAHeapError extends MemkitTypeError {
  /** @param detail What was found instead. */
  constructor(detail: string) {
    super(
      "ERR_MEMKIT_NOT_A_HEAP",
      `The buffer holds no memkit heap: ${detail}. Create one with Heap.create or Heap.over first.`,
    );
  }
}

/**
 * The buffer holds a heap written by a build with a different layout version.
 *
 * @example
 * ```ts
 * try { Heap.attach(oldSnapshot); } catch (e) { if (e instanceof LayoutVersionError) console.log(e.found); }
 * ```
 */
export class LayoutVersionError extends MemkitTypeError {
  /** The version found in the buffer. */
  readonly found: number;
  /** The version this build reads. */
  readonly expected: number;
  /** @param found Found version. @param expected Supported version. */
  constructor(found: number, expected: number) {
    super(
      "ERR_MEMKIT_LAYOUT_VERSION",
      `The heap in this buffer has layout version ${found}, but this memkit reads version ${expected}; open it with a matching memkit version.`,
    );
    this.found = found;
    this.expected = expected;
  }
}

/**
 * An alignment is not a power of two between 8 and 65536.
 *
 * @example
 * ```ts
 * try { heap.malloc(64, 12); } catch (e) { if (e instanceof InvalidAlignmentError) console.log(e.alignment); }
 * ```
 */
export class InvalidAlignmentError extends MemkitRangeError {
  /** The offending alignment. */
  readonly alignment: unknown;
  /** @param alignment The value given. */
  constructor(alignment: unknown) {
    super("ERR_MEMKIT_INVALID_ALIGNMENT", `Alignment must be a power of two from 1 to 65536, got ${String(alignment)}`);
    this.alignment = alignment;
  }
}

/**
 * The operation is not supported by this heap's strategy or memory (e.g. `realloc` past a
 * pool's slot size).
 *
 * @example
 * ```ts
 * try { pool.malloc(1024); } catch (e) { if (e instanceof UnsupportedError) console.log(e.message); }
 * ```
 */
export class UnsupportedError extends MemkitError {
  /** @param message What is not supported and what to do instead. */
  constructor(message: string) {
    super("ERR_MEMKIT_UNSUPPORTED", message);
  }
}

/**
 * A thread died (for example `worker.terminate()`) while it held the lock of a shared heap, in the
 * middle of an operation, so the heap's structures may be half-changed. Like a Rust `Mutex` whose
 * holder panicked, the heap is poisoned: every operation throws this until one thread calls
 * `heap.recover()`, which validates the heap, rebuilds its free structures and reports what it
 * kept.
 *
 * @example
 * ```ts
 * try { heap.malloc(64); } catch (e) { if (e instanceof HeapPoisonedError) console.log(heap.recover()); }
 * ```
 */
export class HeapPoisonedError extends MemkitError {
  /** Lock owner id of the holder that was declared dead (0 if unknown). */
  readonly deadOwner: number;
  /** @param deadOwner The owner id of the dead holder. */
  constructor(deadOwner: number) {
    super(
      "ERR_MEMKIT_HEAP_POISONED",
      `The shared heap is poisoned: lock holder ${deadOwner} stopped inside a heap operation (a terminated or crashed thread) and made no progress for the lock timeout. Call heap.recover() to validate and rebuild it.`,
    );
    this.deadOwner = deadOwner;
  }
}

registerErrorClasses({
  HeapPoisonedError,
  OutOfMemoryError,
  InvalidPointerError,
  DoubleFreeError,
  UseAfterFreeError,
  HeapCorruptionError,
  NotAHeapError,
  LayoutVersionError,
  InvalidAlignmentError,
  UnsupportedError,
});
