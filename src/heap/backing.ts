import { InvalidArgumentError } from "../internal/errors.js";
import { SharedMemoryUnavailableError } from "./errors.js";

/**
 * A `WebAssembly.Memory`, typed by shape because Node's type definitions do not declare the
 * `WebAssembly` namespace (only the DOM library does).
 */
export interface WasmMemory {
  /** The current buffer (replaced when the memory grows). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `deltaPages` 64 KiB pages; returns the old size in pages. */
  grow(deltaPages: number): number;
}

/** Memory a heap can live in. */
export type HeapMemory = ArrayBuffer | SharedArrayBuffer | WasmMemory;

function isWasmMemory(memory: unknown): memory is WasmMemory {
  const ctor = (globalThis as { WebAssembly?: { Memory?: new (...args: never[]) => unknown } }).WebAssembly?.Memory;
  return ctor !== undefined && memory instanceof ctor;
}

const WASM_PAGE = 65536;

/**
 * `SharedArrayBuffer`, or undefined where the platform hides it (a browser page that is not
 * cross-origin isolated). Never named directly: a bare reference would throw a ReferenceError there.
 */
const SharedBuffer: SharedArrayBufferConstructor | undefined = (
  globalThis as { SharedArrayBuffer?: SharedArrayBufferConstructor }
).SharedArrayBuffer;

/** True when `value` is a SharedArrayBuffer (false wherever shared memory does not exist). */
export function isSharedBuffer(value: unknown): value is SharedArrayBuffer {
  return SharedBuffer !== undefined && value instanceof SharedBuffer;
}

/**
 * A new growable SharedArrayBuffer, or SharedMemoryUnavailableError where the page is not
 * cross-origin isolated.
 */
/**
 * A new WebAssembly memory of at least `bytes` that may grow to `maxBytes` (whole 64 KiB pages):
 * what `Heap.create` gives a TLSF heap, so its WebAssembly engine runs it (grown in place).
 */
export function newWasmMemory(bytes: number, maxBytes: number): WasmMemory {
  const api = (globalThis as { WebAssembly?: { Memory: new (descriptor: object) => WasmMemory } }).WebAssembly;
  if (api === undefined) throw new InvalidArgumentError("WebAssembly is not available here");
  return new api.Memory({ initial: Math.ceil(bytes / WASM_PAGE), maximum: Math.ceil(maxBytes / WASM_PAGE) });
}

export function newSharedBuffer(bytes: number, maxByteLength: number): SharedArrayBuffer {
  if (SharedBuffer === undefined)
    throw new SharedMemoryUnavailableError("A heap with shared: true", "create the heap without shared: true");
  return new SharedBuffer(bytes, { maxByteLength });
}

/**
 * One interface over the kinds of backing memory and their different ways of growing:
 * a resizable `ArrayBuffer` resizes in place, a growable `SharedArrayBuffer` grows in place,
 * a `WebAssembly.Memory` grows by pages (and, when not shared, detaches its old buffer), and a
 * plain `ArrayBuffer` made by `Heap.create` grows by moving to a larger buffer (`copyMax` > 0).
 *
 * Why `Heap.create` does not use a resizable `ArrayBuffer`: V8 (Node 20) gives typed arrays over
 * resizable buffers their own element kinds, which read and write slower, and a process mixing
 * both kinds makes every heap access site polymorphic (measured: 60 -> 93 ns per malloc/free).
 */
export class Backing {
  memory: HeapMemory;
  readonly shared: boolean;
  readonly wasm: boolean;
  /** For a plain ArrayBuffer that grows by copying: the most it may grow to; 0 = fixed. */
  private readonly copyMax: number;

  constructor(memory: HeapMemory, copyMax = 0) {
    this.copyMax = copyMax;
    if (isWasmMemory(memory)) {
      this.wasm = true;
      this.shared = isSharedBuffer(memory.buffer);
    } else if (isSharedBuffer(memory)) {
      this.wasm = false;
      this.shared = true;
    } else if (memory instanceof ArrayBuffer) {
      this.wasm = false;
      this.shared = false;
    } else {
      throw new InvalidArgumentError(
        `A heap needs an ArrayBuffer, SharedArrayBuffer or WebAssembly.Memory, got ${Object.prototype.toString.call(memory)}`,
      );
    }
    this.memory = memory;
  }

  /** The current buffer (a WebAssembly memory hands out a new one after it grows). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.wasm ? (this.memory as WasmMemory).buffer : (this.memory as ArrayBuffer | SharedArrayBuffer);
  }

  /** The most the buffer itself can ever hold (WebAssembly: unknown, so the 32-bit limit). */
  get maxByteLength(): number {
    const memory = this.memory;
    if (isWasmMemory(memory)) return 2 ** 32;
    if (this.copyMax > 0) return this.copyMax;
    if (isSharedBuffer(memory)) return memory.growable ? memory.maxByteLength : memory.byteLength;
    return memory.resizable ? memory.maxByteLength : memory.byteLength;
  }

  /** True when growing replaces the buffer by a larger copy (so growth should double). */
  get movesOnGrowth(): boolean {
    return this.copyMax > 0;
  }

  /** Tries to make the buffer at least `bytes` long; false when it cannot. */
  growTo(bytes: number): boolean {
    const memory = this.memory;
    try {
      if (isWasmMemory(memory)) {
        const have = memory.buffer.byteLength;
        if (have >= bytes) return true;
        memory.grow(Math.ceil((bytes - have) / WASM_PAGE));
        return true;
      }
      if (memory.byteLength >= bytes) return true;
      if (isSharedBuffer(memory)) {
        if (!memory.growable || bytes > memory.maxByteLength) return false;
        memory.grow(bytes);
        return true;
      }
      if (this.copyMax > 0) {
        if (bytes > this.copyMax) return false;
        const next = new ArrayBuffer(bytes);
        new Uint8Array(next).set(new Uint8Array(memory));
        this.memory = next;
        return true;
      }
      if (!memory.resizable || bytes > memory.maxByteLength) return false;
      memory.resize(bytes);
      return true;
    } catch {
      // The engine refused (no address space, maximum reached): the caller reports OOM.
      return false;
    }
  }
}
