import { InvalidArgumentError, InvalidSizeError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";
import { Backing, type HeapMemory } from "./backing.js";
import { Cell, type CellType, type ViewOf } from "./cell.js";
import {
  DoubleFreeError,
  HeapCorruptionError,
  InvalidAlignmentError,
  InvalidPointerError,
  LayoutVersionError,
  NotAHeapError,
  OutOfMemoryError,
} from "./errors.js";
import { Guard } from "./guard.js";
import { writeHeader } from "./header.js";
import {
  ALIGN,
  alignUp,
  cachedTag,
  FLAG_ZERO_ALLOC,
  FLAG_ZERO_FREE,
  H_BASE,
  H_END,
  H_FLAGS,
  H_HIGH_WATER,
  H_LOCK,
  H_MAGIC,
  H_MAX_END,
  H_PEAK,
  H_SECRET,
  H_STRATEGY,
  H_USED,
  H_VERSION,
  LAYOUT_VERSION,
  liveTag,
  MAGIC,
  MAX_OFFSET,
} from "./layout.js";
import { lockWord, unlockWord } from "./lock.js";
import type { HeapInstanceOptions, HeapOptions, LeakReport, StrategyName } from "./options.js";
import type { HeapStats, LiveBlock, SiteReport } from "./stats.js";
import { computeStats, groupBySite } from "./stats.js";

/** A copy of a heap's whole memory, from `heap.snapshot()`. */
export interface HeapSnapshot {
  readonly bytes: Uint8Array;
  readonly base: number;
  readonly end: number;
  /** @internal the heap's secret: identifies the heap the snapshot came from. */
  readonly secret: number;
  /** @internal cells created after this serial are revoked on restore. */
  readonly cellSerial: number;
  /** @internal guard state (debug/tracking) at snapshot time. */
  readonly guardState: unknown;
}

type StrategyClass = {
  readonly strategyId: number;
  readonly controlBytes: number;
  readonly cacheable: boolean;
  new (backing: Backing, base: number, options: HeapInstanceOptions): Heap;
};

const strategies = new Map<number, StrategyClass>();
const strategyIds: Record<StrategyName, number> = { tlsf: 1, arena: 2, pool: 3 };
const MIB = 1024 * 1024;
const CACHE_MAX_SIZE = 1024;
const CACHE_DEPTH = 16;
/** In-place growth is rounded up to WebAssembly pages (64 KiB). */
const GROWTH_PAGE = 65536;
const DEFAULT_GROWTH_HEADROOM = 8 * MIB;

function checkAlign(align: unknown): number {
  if (
    typeof align !== "number" ||
    !Number.isInteger(align) ||
    align < 1 ||
    align > 65536 ||
    (align & (align - 1)) !== 0
  ) {
    throw new InvalidAlignmentError(align);
  }
  return align < ALIGN ? ALIGN : align;
}

/**
 * A heap: malloc/free inside one `ArrayBuffer`, `SharedArrayBuffer` or `WebAssembly.Memory`.
 * Pointers are byte offsets into that memory (the same numbers a WebAssembly module sees).
 * The strategy (TLSF, arena or pool) decides the block layout; this class holds what they share:
 * the header, growth, locking for shared memory, typed cells, checks, stats and snapshots.
 *
 * @example
 * ```ts
 * import { Heap } from "memkit/heap";
 * const heap = Heap.create();
 * const p = heap.malloc(64);
 * heap.u8[p] = 42;
 * heap.free(p);
 * ```
 */
export abstract class Heap {
  /** @internal */
  static readonly strategyId: number = 0;
  /** @internal Header plus the strategy's control words, in bytes. */
  static readonly controlBytes: number = 0;
  /** @internal Whether freed small blocks may sit in a thread-local cache when shared. */
  static readonly cacheable: boolean = false;

  /** @internal */
  static registerStrategy(ctor: StrategyClass): void {
    strategies.set(ctor.strategyId, ctor);
  }

  /**
   * Creates a heap in new memory that grows on demand, doubling up to `maxBytes`: an `ArrayBuffer`
   * that the heap replaces with a larger copy when it grows (the fastest kind of memory for V8), or
   * a growable `SharedArrayBuffer` with `shared: true`. To grow in place instead, pass a resizable
   * `ArrayBuffer` to `Heap.over`.
   *
   * @param options Strategy, sizes, zeroing, debugging.
   * @returns The heap.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   * @example
   * ```ts
   * const heap = Heap.create({ initialBytes: 1 << 20, maxBytes: 64 << 20 });
   * ```
   */
  static create(options: HeapOptions = {}): Heap {
    const initial = checkSize(options.initialBytes ?? MIB, "initialBytes", 4096, MAX_OFFSET);
    const max = checkSize(options.maxBytes ?? Math.max(initial, 1024 * MIB), "maxBytes", initial, MAX_OFFSET);
    const backing = options.shared
      ? new Backing(new SharedArrayBuffer(initial, { maxByteLength: max }))
      : new Backing(new ArrayBuffer(initial), max);
    return Heap.format(backing, { ...options, maxBytes: max });
  }

  /**
   * Creates a heap in one fixed preallocated buffer that never grows (the "static pool" mode).
   *
   * @param bytes Size of the buffer.
   * @param options Strategy, zeroing, debugging.
   * @returns The heap.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   * @example
   * ```ts
   * const heap = Heap.fixed(64 * 1024);
   * ```
   */
  static fixed(bytes: number, options: Omit<HeapOptions, "initialBytes" | "maxBytes" | "shared"> = {}): Heap {
    return Heap.over(new ArrayBuffer(checkSize(bytes, "bytes", 256, MAX_OFFSET)), options);
  }

  /**
   * Formats a new heap inside memory the caller provides (from `options.base` to its end, growing
   * up to `maxBytes` if the memory can grow). Whatever the memory held there is overwritten.
   *
   * @param memory The backing memory.
   * @param options Strategy, base offset, maximum, zeroing, debugging.
   * @returns The heap.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE when the memory is too small or base is bad.
   * @example
   * ```ts
   * const memory = new WebAssembly.Memory({ initial: 2, maximum: 100 });
   * const heap = Heap.over(memory, { base: 65536 });
   * ```
   */
  static over(memory: HeapMemory, options: HeapOptions = {}): Heap {
    return Heap.format(new Backing(memory), options);
  }

  private static format(backing: Backing, options: HeapOptions): Heap {
    const ctor = strategies.get(strategyIds[options.strategy ?? "tlsf"]);
    if (ctor === undefined) {
      throw new InvalidArgumentError(`Unknown strategy ${String(options.strategy)}: use "tlsf", "arena" or "pool"`);
    }
    const { base, end } = writeHeader(backing, options, ctor);
    const heap = new ctor(backing, base, options);
    heap.format(heap.start, end);
    return heap;
  }

  /**
   * Reopens the heap that lives in `memory` (made by `create`, `fixed` or `over`, in this thread,
   * another worker, or a snapshot). For a `SharedArrayBuffer`, every attached thread may allocate
   * and free at once.
   *
   * @param memory The memory holding the heap.
   * @param options Base offset and per-thread debugging options.
   * @returns The heap.
   * @throws {NotAHeapError} ERR_MEMKIT_NOT_A_HEAP when no heap is there.
   * @throws {LayoutVersionError} ERR_MEMKIT_LAYOUT_VERSION for a heap of another layout version.
   * @example
   * ```ts
   * // in a worker, given the SharedArrayBuffer of a shared heap:
   * const heap = Heap.attach(workerData.memory);
   * ```
   */
  static attach(memory: HeapMemory, options: HeapInstanceOptions = {}): Heap {
    const backing = new Backing(memory);
    const base = checkSize(options.base ?? 0, "base", 0, MAX_OFFSET);
    const buffer = backing.buffer;
    if (base % ALIGN !== 0 || buffer.byteLength < base + 64)
      throw new NotAHeapError(`the memory is too small at base ${base}`);
    const words = new Int32Array(buffer, base, 16);
    if (words[H_MAGIC] !== MAGIC) throw new NotAHeapError(`no memkit magic number at offset ${base}`);
    if (words[H_VERSION] !== LAYOUT_VERSION) throw new LayoutVersionError(words[H_VERSION] as number, LAYOUT_VERSION);
    const ctor = strategies.get(words[H_STRATEGY] as number);
    if (ctor === undefined) throw new NotAHeapError(`unknown strategy id ${words[H_STRATEGY]}`);
    return new ctor(backing, base, options);
  }

  /** @internal */
  protected readonly backing: Backing;
  /** @internal Word view over the whole memory. */
  protected m: Int32Array;
  /** Byte view over the whole memory, for reading and writing blocks by pointer. */
  u8: Uint8Array;
  /** @internal Word index of the header. */
  protected readonly h: number;
  /** @internal Byte offset of the first block. */
  protected readonly start: number;
  /** @internal The header's secret, cached: it never changes for a heap. */
  protected readonly secret: number;
  /** @internal */
  protected readonly zeroAlloc: boolean;
  /** @internal */
  protected readonly zeroFree: boolean;
  private readonly shared: boolean;
  private readonly wasm: boolean;
  /** Most bytes of headroom an in-place growth adds beyond the request (see `grow`). */
  private readonly growthHeadroom: number;
  private readonly guard: Guard | undefined;
  /** @internal No guard, no cache, not shared, not WebAssembly: a strategy may take a shortcut. */
  protected readonly plain: boolean;
  /**
   * With `cache` (default for shared heaps): per size class (8-byte steps up to CACHE_MAX_SIZE), small blocks this
   * thread freed, reused by its next mallocs without taking the lock (tcache, as in glibc), so
   * threads do not queue on the lock for every small block. See `flush()`.
   */
  private readonly cache: number[][] | undefined;
  /** @internal Cells created with a serial in one of these ranges were revoked by `restore`. */
  revoked: [number, number][] = [];
  /** @internal */
  cellSerial = 0;

  /** @internal Use `Heap.create`, `Heap.fixed`, `Heap.over` or `Heap.attach`. */
  constructor(backing: Backing, base: number, options: HeapInstanceOptions) {
    this.backing = backing;
    const buffer = backing.buffer;
    this.m = new Int32Array(buffer, 0, buffer.byteLength >> 2);
    this.u8 = new Uint8Array(buffer, 0, buffer.byteLength);
    this.h = base >> 2;
    this.start = base + (this.constructor as StrategyClass).controlBytes;
    const flags = this.m[this.h + H_FLAGS] as number;
    this.secret = this.m[this.h + H_SECRET] as number;
    this.zeroAlloc = (flags & FLAG_ZERO_ALLOC) !== 0;
    this.zeroFree = (flags & FLAG_ZERO_FREE) !== 0;
    this.shared = backing.shared;
    this.wasm = backing.wasm;
    this.growthHeadroom = checkSize(
      options.growthHeadroom ?? DEFAULT_GROWTH_HEADROOM,
      "growthHeadroom",
      0,
      MAX_OFFSET,
    );
    const strategy = this.constructor as StrategyClass;
    const cache = options.cache ?? this.shared;
    this.cache = cache && strategy.cacheable ? Array.from({ length: (CACHE_MAX_SIZE >> 3) + 1 }, () => []) : undefined;
    const detectLeaks = options.detectLeaks ?? (options.debug === true || options.trackSites === true);
    this.guard =
      options.debug || options.trackSites || detectLeaks
        ? new Guard(this, options, {
            allocate: (bytes, align) => this.locked(() => this.allocate(bytes, align)),
            release: (ptr) => this.locked(() => this.release(ptr)),
            usable: (ptr) => this.locked(() => this.usable(ptr)),
            reallocate: (ptr, bytes) => this.locked(() => this.reallocate(ptr, bytes)),
          })
        : undefined;
    this.plain = this.guard === undefined && this.cache === undefined && !this.shared && !this.wasm;
  }

  // --- strategy primitives (implemented by each strategy; called with the lock held) --------

  /** @internal Lays out an empty heap over [start, end). */
  protected abstract format(start: number, end: number): void;
  /** @internal Adds [oldEnd, newEnd) after the memory grew. */
  protected abstract extend(oldEnd: number, newEnd: number): void;
  /** @internal A new block's payload pointer, or 0 when out of memory (after trying to grow). */
  protected abstract allocate(bytes: number, align: number): number;
  /** @internal Frees a block; throws InvalidPointerError/DoubleFreeError for a bad pointer. */
  protected abstract release(ptr: number): void;
  /** @internal Usable size of a live block; throws for a bad pointer. */
  protected abstract usable(ptr: number): number;
  /** @internal Resized block (maybe moved), or 0 when out of memory (ptr still valid). */
  protected abstract reallocate(ptr: number, bytes: number): number;
  /** @internal Visits every block in address order. */
  protected abstract walk(visit: (ptr: number, size: number, free: boolean) => void): void;
  /** @internal Throws HeapCorruptionError when an invariant does not hold. */
  protected abstract verify(): void;

  // --- shared machinery ------------------------------------------------------------------

  /**
   * @internal realloc's fallback when a block cannot change size in place: a new block, the
   * contents copied, the old block freed. 0 when out of memory, with the old block untouched.
   */
  protected relocate(ptr: number, have: number, bytes: number): number {
    const moved = this.allocate(bytes, ALIGN);
    if (moved === 0) return 0;
    this.u8.copyWithin(moved, ptr, ptr + Math.min(have, bytes));
    this.release(ptr);
    return moved;
  }

  /** @internal */
  protected invalidPointer(ptr: number, reason: string): never {
    throw new InvalidPointerError(ptr, reason);
  }

  /** @internal */
  protected doubleFree(ptr: number): never {
    throw new DoubleFreeError(ptr);
  }

  /**
   * Views are fixed-length: V8 (Node 20) reads length-tracking views over growable memory several
   * times slower (7x for a growable SharedArrayBuffer). So they are re-created when the memory
   * was replaced (a WebAssembly memory detaches its buffer on growth) or grew past them.
   */
  private sync(): void {
    const buffer = this.backing.buffer;
    if (this.u8.buffer !== buffer || this.u8.length !== buffer.byteLength) {
      this.m = new Int32Array(buffer, 0, buffer.byteLength >> 2);
      this.u8 = new Uint8Array(buffer, 0, buffer.byteLength);
    }
  }

  /**
   * Cheap staleness check before every operation (after taking the lock when shared): another
   * thread, another heap object or the WebAssembly module may have grown the memory.
   */
  private fresh(): void {
    // A detached buffer (a WebAssembly memory that grew, or a Heap.create heap that moved) shows
    // length 0; a heap another thread or object grew ends past our views.
    const length = this.u8.length;
    if (length === 0 || (this.m[this.h + H_END] as number) > length) this.sync();
  }

  private locked<T>(fn: () => T): T {
    if (!this.shared) {
      this.fresh();
      return fn();
    }
    lockWord(this.m, this.h + H_LOCK);
    try {
      this.fresh();
      return fn();
    } finally {
      unlockWord(this.m, this.h + H_LOCK);
    }
  }

  /**
   * @internal Grows the memory so at least `bytes` more are available at the end. Called with
   * the lock held. The policy (see `growthHeadroom`): memory that grows by moving to a larger
   * `ArrayBuffer` (`Heap.create`, not shared) doubles, so the copies cost amortised O(1); memory
   * that grows in place (`WebAssembly.Memory`, growable `SharedArrayBuffer`, resizable
   * `ArrayBuffer`) grows to what is needed plus `min(region / 8, growthHeadroom)`, rounded up to
   * 64 KiB pages, so a heap sharing memory with a WebAssembly module stays near its live size.
   */
  protected grow(bytes: number): boolean {
    const m = this.m;
    const oldEnd = m[this.h + H_END] as number;
    const maxEnd = m[this.h + H_MAX_END] as number;
    const need = alignUp(oldEnd + bytes, ALIGN);
    if (need > maxEnd) return false;
    const region = oldEnd - (this.h << 2);
    const wanted = this.backing.movesOnGrowth
      ? Math.max(need, oldEnd + region)
      : alignUp(need + Math.min(region >>> 3, this.growthHeadroom), GROWTH_PAGE);
    let target = Math.min(maxEnd, wanted) & -ALIGN;
    const have = this.backing.buffer.byteLength & -ALIGN;
    // Another thread (or the WebAssembly module) may already have grown the memory.
    if (have < target && !this.backing.growTo(target)) {
      target = need;
      if (have < target && !this.backing.growTo(target)) return false;
    }
    this.sync();
    const newEnd = Math.min(maxEnd, this.backing.buffer.byteLength) & -ALIGN;
    this.m[this.h + H_END] = newEnd;
    this.extend(oldEnd, newEnd);
    return true;
  }

  // --- raw API -------------------------------------------------------------------------------

  /**
   * Allocates `bytes` bytes and returns the pointer (byte offset) of the block.
   *
   * @param bytes Size in bytes: a whole number, 0 or more.
   * @param align Alignment, a power of two (8 by default; 16 and larger on request).
   * @returns The block's pointer.
   * @throws {OutOfMemoryError} ERR_MEMKIT_OUT_OF_MEMORY when no block fits and the heap cannot grow.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a negative, fractional, NaN or huge size.
   * @example
   * ```ts
   * const p = heap.malloc(256);
   * ```
   */
  malloc(bytes: number, align: number = ALIGN): number {
    const ptr = this.tryMalloc(bytes, align);
    if (ptr === 0) throw this.outOfMemory(bytes);
    return ptr;
  }

  /**
   * Like `malloc`, but returns `0` instead of throwing when memory is exhausted.
   *
   * @param bytes Size in bytes.
   * @param align Alignment (power of two).
   * @returns The pointer, or 0.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size (bad input is never a 0).
   * @example
   * ```ts
   * const p = heap.tryMalloc(1 << 20);
   * if (p === 0) console.log("no room");
   * ```
   */
  tryMalloc(bytes: number, align: number = ALIGN): number {
    if (bytes >>> 0 !== bytes || bytes > MAX_OFFSET) checkSize(bytes, "Allocation size", 0, MAX_OFFSET);
    if (align !== ALIGN) align = checkAlign(align);
    if (this.guard !== undefined) return this.guard.malloc(bytes, align);
    if (this.cache !== undefined && align === ALIGN && bytes <= CACHE_MAX_SIZE) {
      const ptr = this.takeCached(bytes);
      if (ptr !== 0) return ptr;
    }
    // The lock is taken inline rather than through locked(): no closure per call on the hot path.
    if (!this.shared) {
      this.fresh();
      return this.allocate(bytes, align);
    }
    lockWord(this.m, this.h + H_LOCK);
    try {
      this.fresh();
      return this.allocate(bytes, align);
    } finally {
      unlockWord(this.m, this.h + H_LOCK);
    }
  }

  /**
   * Frees the block at `ptr`. The heap is never changed by a bad pointer.
   *
   * @param ptr A pointer from `malloc`, `calloc` or `realloc` of this heap.
   * @throws {DoubleFreeError} ERR_MEMKIT_DOUBLE_FREE when the block was already freed.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER when `ptr` is not a live block's start.
   * @example
   * ```ts
   * heap.free(heap.malloc(32));
   * ```
   */
  free(ptr: number): void {
    if (ptr >>> 0 !== ptr) throw new InvalidPointerError(ptr, "a pointer is a whole number from 0");
    if (this.guard !== undefined) {
      this.guard.free(ptr);
      return;
    }
    if (this.cache !== undefined && this.keepCached(ptr)) return;
    if (!this.shared) {
      this.fresh();
      this.release(ptr);
      return;
    }
    lockWord(this.m, this.h + H_LOCK);
    try {
      this.fresh();
      this.release(ptr);
    } finally {
      unlockWord(this.m, this.h + H_LOCK);
    }
  }

  /**
   * Resizes the block at `ptr`, in place when it can, else by moving it (contents kept up to the
   * smaller size). On failure the old block is untouched and still yours.
   *
   * @param ptr A live pointer, or 0 to allocate.
   * @param bytes The new size.
   * @returns The (maybe moved) pointer.
   * @throws {OutOfMemoryError} ERR_MEMKIT_OUT_OF_MEMORY when it cannot grow; `ptr` stays valid.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER for a bad pointer.
   * @example
   * ```ts
   * let p = heap.malloc(16);
   * p = heap.realloc(p, 4096);
   * ```
   */
  realloc(ptr: number, bytes: number): number {
    if (ptr === 0) return this.malloc(bytes);
    if (bytes >>> 0 !== bytes || bytes > MAX_OFFSET) checkSize(bytes, "Allocation size", 0, MAX_OFFSET);
    if (ptr >>> 0 !== ptr) throw new InvalidPointerError(ptr, "a pointer is a whole number from 0");
    const moved =
      this.guard !== undefined ? this.guard.realloc(ptr, bytes) : this.locked(() => this.reallocate(ptr, bytes));
    if (moved === 0) throw this.outOfMemory(bytes);
    return moved;
  }

  /**
   * Allocates `count * size` bytes that read as zeros, whatever the heap's zero mode.
   *
   * @param count Number of elements.
   * @param size Size of one element in bytes.
   * @returns The pointer.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE when the product overflows the heap's range.
   * @throws {OutOfMemoryError} ERR_MEMKIT_OUT_OF_MEMORY when it does not fit.
   * @example
   * ```ts
   * const p = heap.calloc(100, 8);
   * ```
   */
  calloc(count: number, size: number): number {
    checkSize(count, "count", 0, MAX_OFFSET);
    checkSize(size, "size", 0, MAX_OFFSET);
    const bytes = count * size;
    if (bytes > MAX_OFFSET) throw new InvalidSizeError(`calloc(${count}, ${size}) overflows: ${bytes} bytes`, bytes);
    const ptr = this.malloc(bytes);
    if (!this.zeroAlloc) this.u8.fill(0, ptr, ptr + bytes);
    return ptr;
  }

  /**
   * The usable size of a live block: at least what was asked for.
   *
   * @param ptr A live pointer.
   * @returns Usable bytes.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER for a bad pointer.
   * @example
   * ```ts
   * heap.usableSize(heap.malloc(10)); // 16
   * ```
   */
  usableSize(ptr: number): number {
    if (ptr >>> 0 !== ptr) throw new InvalidPointerError(ptr, "a pointer is a whole number from 0");
    if (this.guard !== undefined) return this.guard.usableSize(ptr);
    return this.locked(() => this.usable(ptr));
  }

  /** A block of exactly this size class from the thread-local cache, or 0. No lock: only this thread uses it. */
  private takeCached(bytes: number): number {
    const size = bytes <= 16 ? 16 : (bytes + 7) & -8;
    const ptr = (this.cache as number[][])[size >> 3]?.pop();
    if (ptr === undefined) return 0;
    this.m[(ptr - 4) >> 2] = liveTag(ptr, this.secret);
    if (this.zeroAlloc) this.u8.fill(0, ptr, ptr + size);
    return ptr;
  }

  /**
   * Keeps a freed small block in the thread-local cache when it is a valid live block and there is
   * room; anything doubtful goes the locked way, where the strategy reports the right error.
   * Reading a live block's size without the lock is safe: only its owner changes it.
   */
  private keepCached(ptr: number): boolean {
    if ((ptr & 7) !== 0 || ptr < this.start + 8 || ptr >= this.u8.length) return false;
    const m = this.m;
    if (m[(ptr - 4) >> 2] !== liveTag(ptr, this.secret)) return false;
    const size = (m[(ptr - 8) >> 2] as number) & ~7;
    if (size > CACHE_MAX_SIZE) return false;
    const stack = (this.cache as number[][])[size >> 3];
    if (stack === undefined || stack.length >= CACHE_DEPTH) return false;
    m[(ptr - 4) >> 2] = cachedTag(ptr, this.secret);
    if (this.zeroFree) this.u8.fill(0, ptr, ptr + size);
    stack.push(ptr);
    return true;
  }

  /**
   * Returns the small blocks this heap object keeps cached (see the `cache` option) to the heap. Until
   * then they count as live in `stats()` of every thread; `check()`, `stats()` and `live()` of
   * this heap object flush first. Call it before a worker that used a shared heap exits.
   *
   * @example
   * ```ts
   * const heap = Heap.attach(workerData.memory);
   * // ... work ...
   * heap.flush();
   * ```
   */
  flush(): void {
    const cache = this.cache;
    if (cache === undefined) return;
    this.locked(() => {
      for (const stack of cache) {
        for (let ptr = stack.pop(); ptr !== undefined; ptr = stack.pop()) {
          this.m[(ptr - 4) >> 2] = liveTag(ptr, this.secret);
          this.release(ptr);
        }
      }
    });
  }

  private outOfMemory(bytes: number): OutOfMemoryError {
    const stats = this.stats();
    return new OutOfMemoryError(bytes, stats.free, stats.largestFree);
  }

  // --- typed cells ---------------------------------------------------------------------------

  /**
   * Allocates a typed cell of `length` elements: a block with a typed view over exactly it, freed
   * by `cell.free()` or at the end of a `using` scope.
   *
   * @param type A typed array constructor or `DataView` (then `length` is in bytes).
   * @param length Number of elements.
   * @returns The cell.
   * @throws {OutOfMemoryError} ERR_MEMKIT_OUT_OF_MEMORY when it does not fit.
   * @example
   * ```ts
   * using v = heap.alloc(Float64Array, 1024);
   * v.view[0] = Math.PI;
   * ```
   */
  alloc<T extends CellType>(type: T, length: number): Cell<ViewOf<T>> {
    const element = (type as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    const bytes = length * element;
    // Fast check first; the full check (and its message) only when something is off.
    if (length >>> 0 !== length || bytes > MAX_OFFSET) checkSize(length, "length", 0, Math.floor(MAX_OFFSET / element));
    const ptr = this.malloc(bytes, element > ALIGN ? element : ALIGN);
    const cell = new Cell<ViewOf<T>>(this, type, ptr, length, ++this.cellSerial);
    this.guard?.adopt(cell);
    return cell;
  }

  /**
   * Marks a block as intentionally permanent (`Box::leak`): it is never reported as a leak.
   *
   * @param target A cell or a pointer.
   * @example
   * ```ts
   * const config = heap.alloc(Uint8Array, 64);
   * heap.leak(config);
   * ```
   */
  leak(target: Cell<ArrayBufferView> | number): void {
    const ptr = typeof target === "number" ? target : target.ptr;
    this.usableSize(ptr);
    this.pinned.add(ptr);
    this.guard?.pin(ptr);
  }

  /** @internal Pointers marked by `leak()`. */
  readonly pinned: Set<number> = new Set();

  // --- inspection ----------------------------------------------------------------------------

  /**
   * Walks every block and free list and checks every invariant (and, in debug mode, every red
   * zone and quarantined block).
   *
   * @throws {HeapCorruptionError} ERR_MEMKIT_HEAP_CORRUPTION naming the offset and what is wrong.
   * @example
   * ```ts
   * heap.check();
   * ```
   */
  check(): void {
    this.flush();
    this.locked(() => {
      const m = this.m;
      if (m[this.h + H_MAGIC] !== MAGIC)
        throw new HeapCorruptionError(this.h * 4, "the header's magic number was overwritten");
      this.verify();
    });
    this.guard?.check();
  }

  /**
   * Capacity, use, peak, block counts, largest free block and fragmentation.
   *
   * @returns The figures.
   * @example
   * ```ts
   * console.log(heap.stats().fragmentation);
   * ```
   */
  stats(): HeapStats {
    this.flush();
    return this.locked(() => {
      const m = this.m;
      const h = this.h;
      return computeStats(
        (visit) => this.walk(visit),
        (m[h + H_END] as number) - (m[h + H_BASE] as number),
        m[h + H_USED] as number,
        m[h + H_PEAK] as number,
        (m[h + H_HIGH_WATER] as number) - (m[h + H_BASE] as number),
      );
    });
  }

  /**
   * Every live block: pointer, usable size, allocation site (with `trackSites`) and whether it
   * was marked permanent with `leak()`.
   *
   * @returns The live blocks in address order.
   * @example
   * ```ts
   * for (const block of heap.live()) console.log(block.ptr, block.size, block.site);
   * ```
   */
  live(): LiveBlock[] {
    this.flush();
    const blocks: LiveBlock[] = [];
    this.locked(() =>
      this.walk((ptr, size, free) => {
        if (!free) blocks.push({ ptr, size, site: undefined, intentional: false });
      }),
    );
    const located = this.guard ? this.guard.locate(blocks) : blocks;
    return located.map((b) => (this.pinned.has(b.ptr) ? { ...b, intentional: true } : b));
  }

  /**
   * Live blocks not marked with `leak()`, grouped by allocation site, largest total first, plus
   * the definite leaks the garbage collector found (cells reclaimed while still allocated).
   *
   * @returns The report.
   * @example
   * ```ts
   * const heap = Heap.create({ trackSites: true });
   * heap.malloc(10);
   * console.log(heap.leakReport().sites[0]?.site);
   * ```
   */
  leakReport(): { sites: SiteReport[]; collected: LeakReport[] } {
    return { sites: groupBySite(this.live().filter((b) => !b.intentional)), collected: this.guard?.collected() ?? [] };
  }

  /**
   * The memory the heap lives in. A heap from `Heap.create` (not shared) moves to a larger
   * `ArrayBuffer` when it grows, so read this again after allocating rather than keeping it.
   */
  get memory(): HeapMemory {
    return this.backing.memory;
  }

  /** The current buffer (changes when a WebAssembly memory grows). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    // u8 follows every move of the memory (sync), except a WebAssembly memory grown by the module.
    if (this.wasm) this.sync();
    return this.u8.buffer;
  }

  /** Byte offset of the heap's header in its memory (what `attach` needs as `base`). */
  get base(): number {
    return this.h << 2;
  }

  // --- snapshots -----------------------------------------------------------------------------

  /**
   * Copies the heap's whole region, so `restore` can erase every allocation and write made since.
   *
   * @returns The snapshot.
   * @example
   * ```ts
   * const snap = heap.snapshot();
   * runUntrustedCode(heap);
   * heap.restore(snap);
   * ```
   */
  snapshot(): HeapSnapshot {
    this.flush();
    return this.locked(() => {
      const end = this.m[this.h + H_END] as number;
      const base = this.h << 2;
      return {
        bytes: this.u8.slice(base, end),
        base,
        end,
        secret: this.secret,
        cellSerial: this.cellSerial,
        guardState: this.guard?.save(),
      };
    });
  }

  /**
   * Puts back a snapshot of this heap. Cells created after the snapshot are revoked (using them
   * is a use-after-free error); memory the heap gained since is kept as free space. On a shared
   * heap, every other thread must have called `flush()` and stopped using the heap first: blocks
   * they still cache belong to the erased timeline.
   *
   * @param snapshot From `snapshot()` of this heap.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for a snapshot of another heap.
   * @example
   * ```ts
   * heap.restore(snap);
   * ```
   */
  restore(snapshot: HeapSnapshot): void {
    if (
      snapshot.base !== this.h << 2 ||
      snapshot.secret !== this.secret ||
      snapshot.bytes.length !== snapshot.end - snapshot.base
    ) {
      throw new InvalidArgumentError("The snapshot was not taken from this heap");
    }
    this.locked(() => {
      const currentEnd = this.m[this.h + H_END] as number;
      if (currentEnd < snapshot.end) throw new InvalidArgumentError("The snapshot is larger than this heap");
      const lock = this.m[this.h + H_LOCK] as number;
      this.u8.set(snapshot.bytes, snapshot.base);
      this.m[this.h + H_LOCK] = lock;
      if (currentEnd > snapshot.end) {
        this.m[this.h + H_END] = currentEnd;
        this.extend(snapshot.end, currentEnd);
      }
    });
    if (this.cellSerial > snapshot.cellSerial) this.revoked.push([snapshot.cellSerial, this.cellSerial]);
    this.pinned.clear();
    // Cached blocks belong to the erased timeline; the snapshot already counts its own blocks.
    if (this.cache !== undefined) for (const stack of this.cache) stack.length = 0;
    this.guard?.load(snapshot.guardState);
  }
}
