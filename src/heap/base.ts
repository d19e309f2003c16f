import { InvalidSizeError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";
import type { Backing, HeapMemory } from "./backing.js";
import { Cell, type CellLedger, type CellType, type ViewOf } from "./cell.js";
import type { CAllocatorFunctions, WasmAllocator } from "./engine.js";
import {
  DoubleFreeError,
  HeapCorruptionError,
  InvalidAlignmentError,
  InvalidPointerError,
  OutOfMemoryError,
} from "./errors.js";
import { Guard } from "./guard.js";
import {
  alignUp,
  FLAG_ZERO_ALLOC,
  FLAG_ZERO_FREE,
  H_BASE,
  H_DEAD_OWNER,
  H_END_CHECK,
  H_FLAGS,
  H_HEADER_SUM,
  H_HIGH_WATER,
  H_LIVE,
  H_LOCK,
  H_LOCK_SEQ,
  H_MAX_END,
  H_NEXT_OWNER,
  H_PEAK,
  H_SECRET,
  H_STATE_CHECK,
  H_USED,
  headerSum,
  ALIGN as LAYOUT_ALIGN,
  H_CLEAN as LAYOUT_H_CLEAN,
  H_END as LAYOUT_H_END,
  MAX_OFFSET as LAYOUT_MAX_OFFSET,
  wordCheck,
} from "./layout.js";
import { lockForRecovery, lockHeap, newOwner, unlockHeap } from "./lock.js";
import type { HeapInstanceOptions, LeakReport } from "./options.js";
import { HeapSnapshot } from "./snapshot.js";
import type { HeapStats, LiveBlock, RecoveryReport, SiteReport } from "./stats.js";
import { computeStats, groupBySite } from "./stats.js";
import { CACHE_MAX_SIZE, type CacheHost, ThreadCache } from "./thread-cache.js";

// Module-local copies of the layout words the per-operation paths (fresh, zeroFresh, the size
// checks) use: V8 reads an imported binding through its module cell at every use (see tlsf.ts).
const ALIGN = LAYOUT_ALIGN;
const H_CLEAN = LAYOUT_H_CLEAN;
const H_END = LAYOUT_H_END;
const MAX_OFFSET = LAYOUT_MAX_OFFSET;

const MIB = 1024 * 1024;
/** In-place growth is rounded up to WebAssembly pages (64 KiB). */
const GROWTH_PAGE = 65536;
const DEFAULT_GROWTH_HEADROOM = 8 * MIB;
const DEFAULT_LOCK_TIMEOUT_MS = 2000;

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

/** Throws the typed error for a size that failed the fast check (any type: BigInt and Symbol too). */
function badSize(bytes: unknown): never {
  checkSize(bytes, "Allocation size", 0, MAX_OFFSET);
  throw new InvalidSizeError(`Allocation size must be at most ${MAX_OFFSET}, got ${String(bytes)}`, bytes);
}

function badPointer(ptr: unknown): never {
  // A Symbol cannot go into a template string: name it by its description.
  const shown = typeof ptr === "symbol" ? ptr.toString() : ptr;
  throw new InvalidPointerError(shown as number, `a pointer is a whole number from 0, got a ${typeof ptr}`);
}

/**
 * What every heap shares, whatever its strategy: the header, growth, locking for shared memory,
 * the thread cache, typed cells, checks, stats, snapshots and recovery. Strategies (TLSF, arena,
 * pool) extend it and implement the block-level primitives. Use it through `Heap`.
 */
export abstract class HeapBase {
  /** @internal */
  static readonly strategyId: number = 0;
  /** @internal Header plus the strategy's control words, in bytes. */
  static readonly controlBytes: number = 0;
  /** @internal Whether freed small blocks may sit in a thread-local cache when shared. */
  static readonly cacheable: boolean = false;

  /** @internal */
  protected readonly backing: Backing;
  /** @internal Word view over the whole memory. */
  protected m: Int32Array;
  /** @internal Byte view over the whole memory (public read-only as `u8`). */
  protected bytesView: Uint8Array;
  /** @internal 8-byte view over the whole memory: zeroes small blocks with half the stores of `m`. */
  protected f64: Float64Array;
  /** @internal Word index of the header. */
  protected readonly h: number;
  /** @internal Byte offset of the first block. */
  protected readonly start: number;
  /** @internal The header's secret, cached: a stray write to the header cannot change it. */
  protected readonly secret: number;
  /** @internal */
  protected readonly zeroAlloc: boolean;
  /** @internal */
  protected readonly zeroFree: boolean;
  /** The views as the thread cache sees them (a closure-free object: the hot path reads it). */
  readonly #host: CacheHost = { words: new Int32Array(0), bytes: new Uint8Array(0) };
  private readonly shared: boolean;
  private readonly wasm: boolean;
  private readonly growthHeadroom: number;
  private readonly lockTimeoutMs: number;
  private readonly owner: number;
  private readonly guard: Guard | undefined;
  /** @internal No guard, no cache, not shared, not WebAssembly: a strategy may take a shortcut. */
  protected readonly plain: boolean;
  /** @internal No guard, no cache, not shared: malloc and free go straight to the strategy. */
  protected readonly direct: boolean;
  /** Freed small blocks of this thread (see `HeapInstanceOptions.cache`). */
  private readonly cache: ThreadCache | undefined;
  /** Cells made by this heap object, and the serial ranges `restore` revoked. */
  readonly #ledger: CellLedger = { revoked: [], serial: 0 };
  /** Pointers marked by `leak()`. */
  readonly #pinned = new Set<number>();

  /** @internal Use `Heap.create`, `Heap.fixed`, `Heap.over` or `Heap.attach`. */
  constructor(backing: Backing, base: number, options: HeapInstanceOptions) {
    this.backing = backing;
    const buffer = backing.buffer;
    this.m = new Int32Array(buffer, 0, buffer.byteLength >> 2);
    this.bytesView = new Uint8Array(buffer, 0, buffer.byteLength);
    this.f64 = new Float64Array(buffer, 0, buffer.byteLength >> 3);
    this.h = base >> 2;
    const strategy = this.constructor as typeof HeapBase;
    this.start = base + strategy.controlBytes;
    const flags = this.m[this.h + H_FLAGS] as number;
    this.secret = this.m[this.h + H_SECRET] as number;
    this.zeroAlloc = (flags & FLAG_ZERO_ALLOC) !== 0;
    this.zeroFree = (flags & FLAG_ZERO_FREE) !== 0;
    this.shared = backing.shared;
    this.wasm = backing.wasm;
    this.growthHeadroom = checkSize(options.growthHeadroom ?? DEFAULT_GROWTH_HEADROOM, "growthHeadroom", 0, MAX_OFFSET);
    const timeout = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    if (typeof timeout !== "number" || !(timeout > 0)) checkSize(timeout, "lockTimeoutMs", 1, Number.MAX_SAFE_INTEGER);
    this.lockTimeoutMs = timeout;
    this.owner = this.shared ? newOwner(this.m, this.h) : 0;
    this.cache =
      (options.cache ?? this.shared) && strategy.cacheable
        ? new ThreadCache(this.secret, this.start, this.zeroAlloc, this.zeroFree)
        : undefined;
    const detectLeaks = options.detectLeaks ?? (options.debug === true || options.trackSites === true);
    this.guard =
      options.debug || options.trackSites || detectLeaks
        ? new Guard(this, options, {
            allocate: (bytes, align) => this.locked(() => this.allocate(bytes, align)),
            release: (ptr) => this.locked(() => this.release(ptr)),
            usable: (ptr) => this.locked(() => this.usable(ptr)),
            reallocate: (ptr, bytes) => this.locked(() => this.reallocate(ptr, bytes)),
            redZones: strategy.redZones,
          })
        : undefined;
    this.direct = this.guard === undefined && this.cache === undefined && !this.shared;
    this.plain = this.direct && !this.wasm;
  }

  /** @internal Whether blocks may be larger than asked (red zones in debug mode); pool: no. */
  static readonly redZones: boolean = true;

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
  /** @internal Visits every block in address order; bounded, throws HeapCorruptionError. */
  protected abstract walk(visit: (ptr: number, size: number, free: boolean) => void): void;
  /** @internal Throws HeapCorruptionError when an invariant does not hold. */
  protected abstract verify(): void;
  /** @internal Rebuilds the free structures from the blocks; returns the ranges it could not read. */
  protected abstract rebuild(): { offset: number; bytes: number }[];
  /** @internal Checks the strategy's control words against the region (attach); throws HeapCorruptionError. */
  abstract checkControl(): void;

  /** @internal `attach`'s last step: the strategy's control words checked under the lock. */
  checkAttached(): void {
    this.locked(() => this.checkControl());
  }

  /** @internal An arena reset dropped [from, to): the debug guard forgets those blocks. */
  protected forgetRange(from: number, to: number): void {
    this.guard?.forget(from, to);
  }

  // --- shared machinery ------------------------------------------------------------------

  /** The current views, for the thread cache. */
  private host(): CacheHost {
    const host = this.#host as { words: Int32Array; bytes: Uint8Array };
    host.words = this.m;
    host.bytes = this.bytesView;
    return host;
  }

  /** @internal Formats an empty heap (called once by `Heap.create`/`fixed`/`over`). */
  formatRegion(end: number, dirty: boolean): void {
    // Memory the caller handed over may hold old bytes: wipe it once, so that from here on every
    // byte above the clean mark is known to be zero (see zeroFresh).
    if (dirty) this.bytesView.fill(0, this.start, end);
    this.m[this.h + H_CLEAN] = this.start;
    this.refresh();
    this.format(this.start, end);
  }

  /**
   * @internal Zeroes [from, top) of a live block's payload (both 8-aligned, at least 8 bytes apart),
   * paying only for reused bytes: memory above the clean mark was never handed out and is zero,
   * except the metadata of the free block the bytes came from: its header and links at `from` (at
   * most 16 bytes) and its back pointer in the last word. Then the clean mark moves up to `top`.
   */
  protected zeroFresh(from: number, top: number): void {
    const m = this.m;
    const clean = m[this.h + H_CLEAN] as number;
    if (top <= clean) {
      this.zeroRange(from, top);
      return;
    }
    if (from < clean) this.zeroRange(from, clean);
    const f64 = this.f64;
    f64[from >> 3] = 0;
    if (from + 16 <= top) f64[(from + 8) >> 3] = 0;
    m[(top - 4) >> 2] = 0;
    m[this.h + H_CLEAN] = top;
  }

  /** @internal Zeroes [from, to), both 8-aligned. */
  protected zeroRange(from: number, to: number): void {
    // Up to 512 bytes, 8-byte stores beat the call into TypedArray.prototype.fill (a C++ builtin,
    // ~35 ns a call, measured). Writing +0 stores all-zero bits.
    if (to - from <= 512) {
      const f64 = this.f64;
      const end = to >> 3;
      let i = from >> 3;
      // Four stores a turn: the loop's own compare and bounds checks cost as much as the stores.
      for (; i + 4 <= end; i += 4) {
        f64[i] = 0;
        f64[i + 1] = 0;
        f64[i + 2] = 0;
        f64[i + 3] = 0;
      }
      for (; i < end; i++) f64[i] = 0;
    } else this.bytesView.fill(0, from, to);
  }

  /** @internal realloc's fallback: a new block, the contents copied, the old block freed. */
  protected relocate(ptr: number, have: number, bytes: number): number {
    const moved = this.allocate(bytes, ALIGN);
    if (moved === 0) return 0;
    this.bytesView.copyWithin(moved, ptr, ptr + Math.min(have, bytes));
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

  /** @internal */
  protected corrupt(offset: number, what: string): never {
    throw new HeapCorruptionError(offset, what);
  }

  /**
   * Views are fixed-length: V8 (Node 20) reads length-tracking views over growable memory several
   * times slower (7x for a growable SharedArrayBuffer). So they are re-created when the memory
   * was replaced (a WebAssembly memory detaches its buffer on growth) or grew past them.
   */
  private sync(): void {
    const buffer = this.backing.buffer;
    if (this.bytesView.buffer !== buffer || this.bytesView.length !== buffer.byteLength) {
      this.m = new Int32Array(buffer, 0, buffer.byteLength >> 2);
      this.bytesView = new Uint8Array(buffer, 0, buffer.byteLength);
      this.f64 = new Float64Array(buffer, 0, buffer.byteLength >> 3);
    }
  }

  /**
   * Before every operation (after taking the lock when shared): re-creates stale views (another
   * thread, heap object or the WebAssembly module may have grown the memory), and checks the end
   * word every bound of the operation comes from, so nothing later reads past the buffer.
   */
  protected fresh(): void {
    // Hot path: views in place and the end word as this object last confirmed it.
    if (this.bytesView.length === 0 || this.m[this.h + H_END] !== this.endSeen) this.refresh();
  }

  /** @internal fresh()'s slow path: re-creates stale views and confirms a moved end word (range and check word). */
  protected refresh(): void {
    let end = this.m[this.h + H_END] as number;
    const length = this.bytesView.length;
    if (length === 0 || end > length) {
      this.sync();
      end = this.m[this.h + H_END] as number;
    }
    if (end > this.bytesView.length || end < this.start + 16 || (end & 7) !== 0) {
      this.corrupt(
        (this.h + H_END) * 4,
        `the end word holds ${end}, outside the memory of ${this.bytesView.length} bytes`,
      );
    }
    if (this.m[this.h + H_END_CHECK] !== wordCheck(H_END, end, this.secret)) {
      this.corrupt((this.h + H_END) * 4, `the end word holds ${end}, which its check word does not confirm`);
    }
    this.endSeen = end;
    this.limit = end - 8;
    this.limitMoved();
  }

  /** @internal The last end word this object confirmed against its check word. */
  protected endSeen = -1;
  /** @internal The end sentinel's offset (end - 8), as of the last confirmed end. */
  protected limit = 0;

  /** @internal Writes a new end and its check word. */
  protected setEnd(end: number): void {
    this.m[this.h + H_END] = end;
    this.m[this.h + H_END_CHECK] = wordCheck(H_END, end, this.secret);
    this.endSeen = end;
    this.limit = end - 8;
    this.limitMoved();
  }

  /** @internal `limit` changed (the heap grew, or another heap object grew it). */
  protected limitMoved(): void {}

  /** @internal The strategy's moving mark (arena top, pool fresh) at `index`, checked against its check word. */
  protected checkedMark(index: number, what: string): number {
    const m = this.m;
    const value = m[this.h + index] as number;
    if (
      m[this.h + H_STATE_CHECK] !== wordCheck(index, value, this.secret) ||
      value < this.start ||
      value > (m[this.h + H_END] as number) ||
      (value & 7) !== 0
    ) {
      this.corrupt(
        (this.h + index) * 4,
        `the ${what} holds ${value}, which is outside the region or does not match its check word`,
      );
    }
    return value;
  }

  /** @internal Writes the strategy's moving mark and its check word. */
  protected setMark(index: number, value: number): void {
    this.m[this.h + index] = value;
    this.m[this.h + H_STATE_CHECK] = wordCheck(index, value, this.secret);
  }

  /** @internal Runs `fn` with the heap's lock held (shared memory) and fresh, checked views. */
  protected locked<T>(fn: () => T): T {
    if (!this.shared) {
      this.fresh();
      return fn();
    }
    lockHeap(this.m, this.h, this.owner, this.lockTimeoutMs);
    try {
      this.fresh();
      return fn();
    } finally {
      unlockHeap(this.m, this.h, this.owner);
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
    const maxEnd = Math.min(m[this.h + H_MAX_END] as number, MAX_OFFSET);
    // Compared as doubles first: alignUp works on 32-bit integers and would wrap past 2^31.
    if (!(bytes > 0) || bytes > MAX_OFFSET || oldEnd + bytes > maxEnd) return false;
    const need = alignUp(oldEnd + bytes, ALIGN);
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
    this.setEnd(newEnd);
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
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a negative, fractional, NaN, huge or non-number size.
   * @throws {HeapCorruptionError} ERR_MEMKIT_HEAP_CORRUPTION when the heap's metadata was overwritten.
   * @throws {HeapPoisonedError} ERR_MEMKIT_HEAP_POISONED when a thread died holding the lock.
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
    if (typeof bytes !== "number" || bytes >>> 0 !== bytes || bytes > MAX_OFFSET) badSize(bytes);
    if (align !== ALIGN) align = checkAlign(align);
    // Kept small so V8 inlines the strategy's allocate here; everything else is in slowMalloc.
    if (!this.direct) return this.slowMalloc(bytes, align);
    this.fresh();
    return this.allocate(bytes, align);
  }

  /** tryMalloc through the debug guard, the thread cache or the lock of shared memory. */
  private slowMalloc(bytes: number, align: number): number {
    if (this.guard !== undefined) return this.guard.malloc(bytes, align);
    if (this.cache !== undefined && align === ALIGN && bytes <= CACHE_MAX_SIZE) {
      const ptr = this.cache.take(this.host(), bytes);
      if (ptr !== 0) return ptr;
    }
    if (!this.shared) {
      this.fresh();
      return this.allocate(bytes, align);
    }
    lockHeap(this.m, this.h, this.owner, this.lockTimeoutMs);
    try {
      this.fresh();
      return this.allocate(bytes, align);
    } finally {
      unlockHeap(this.m, this.h, this.owner);
    }
  }

  /**
   * Frees the block at `ptr`. The heap is never changed by a bad pointer.
   *
   * @param ptr A pointer from `malloc`, `calloc` or `realloc` of this heap.
   * @throws {DoubleFreeError} ERR_MEMKIT_DOUBLE_FREE when the block was already freed.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER when `ptr` is not a live block's start.
   * @throws {HeapCorruptionError} ERR_MEMKIT_HEAP_CORRUPTION when the block's or a neighbour's metadata was overwritten.
   * @example
   * ```ts
   * heap.free(heap.malloc(32));
   * ```
   */
  free(ptr: number): void {
    if (typeof ptr !== "number" || ptr >>> 0 !== ptr) badPointer(ptr);
    if (!this.direct) {
      this.slowFree(ptr);
      return;
    }
    this.fresh();
    this.release(ptr);
  }

  /** free through the debug guard, the thread cache or the lock of shared memory. */
  private slowFree(ptr: number): void {
    if (this.guard !== undefined) {
      this.guard.free(ptr);
      return;
    }
    if (this.cache?.keep(this.host(), ptr)) return;
    if (!this.shared) {
      this.fresh();
      this.release(ptr);
      return;
    }
    lockHeap(this.m, this.h, this.owner, this.lockTimeoutMs);
    try {
      this.fresh();
      this.release(ptr);
    } finally {
      unlockHeap(this.m, this.h, this.owner);
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
    if (typeof bytes !== "number" || bytes >>> 0 !== bytes || bytes > MAX_OFFSET) badSize(bytes);
    if (typeof ptr !== "number" || ptr >>> 0 !== ptr) badPointer(ptr);
    let moved: number;
    if (this.guard !== undefined) moved = this.guard.realloc(ptr, bytes);
    else if (!this.shared) {
      // Not through locked(): that costs a closure per call and shares one call site among all strategies.
      this.fresh();
      moved = this.reallocate(ptr, bytes);
    } else moved = this.locked(() => this.reallocate(ptr, bytes));
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
    if (!this.zeroAlloc) this.bytesView.fill(0, ptr, ptr + bytes);
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
    if (typeof ptr !== "number" || ptr >>> 0 !== ptr) badPointer(ptr);
    if (this.guard !== undefined) return this.guard.usableSize(ptr);
    return this.locked(() => this.usable(ptr));
  }

  /**
   * WebAssembly functions that allocate from this heap, for a C module compiled to WebAssembly to
   * import as its `malloc`, `free`, `calloc` and `realloc`: C then calls memkit's TLSF engine
   * directly, with no JavaScript on the way (about 10 ns a call, where a JavaScript import costs
   * several times that). What the engine does not serve itself (the heap has to grow, a size past
   * the heap's range, a pointer that is not a live block) goes to `fallback`'s function of the same
   * name, which should apply C's rules (return 0 on failure, report a bad free); an error the
   * engine finds itself (a corrupt heap) goes to `onError`, and C gets NULL. Each call replaces the
   * previous `fallback` and `onError`. memkit/ffi's `instantiateWithHeap` does all of this for you.
   *
   * Available for a TLSF heap over a non-shared `WebAssembly.Memory` without `debug`, `trackSites`,
   * `cache` or `engine: "typescript"`; undefined otherwise (then import JavaScript functions that call
   * `tryMalloc`/`free`).
   *
   * @param fallback JavaScript functions for what the engine does not serve.
   * @param onError Receives the engine's own errors (`HeapCorruptionError`) from calls made by C.
   * @returns The four functions (and what a C module with memkit's allocator compiled in needs:
   *   `cold`, `bindLinked`), or undefined.
   * @example
   * ```ts
   * const heap = Heap.over(memory, { base: heapBase });
   * const c = heap.wasmAllocator(
   *   { malloc: (n) => heap.tryMalloc(n), free: (p) => heap.free(p), calloc: () => 0, realloc: () => 0 },
   *   (error) => console.error(error),
   * );
   * ```
   */
  wasmAllocator(fallback: CAllocatorFunctions, onError: (error: unknown) => void): WasmAllocator | undefined {
    void fallback;
    void onError;
    return undefined;
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
    this.locked(() => cache.drain(this.host(), (ptr) => this.release(ptr)));
  }

  private outOfMemory(bytes: number): OutOfMemoryError {
    // A walk that meets damage throws HeapCorruptionError: that is what the caller must hear about.
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
    // Fast check first; the full check (and its message) only when something is off.
    if (typeof length !== "number" || length >>> 0 !== length || length * element > MAX_OFFSET) {
      checkSize(length, "length", 0, Math.floor(MAX_OFFSET / element));
    }
    const ptr = this.malloc(length * element, element > ALIGN ? element : ALIGN);
    const ledger = this.#ledger;
    const cell = new Cell<ViewOf<T>>(this, ledger, type, ptr, length, ++ledger.serial);
    this.guard?.adopt(cell);
    return cell;
  }

  /**
   * Marks a block as intentionally permanent (`Box::leak`): it is never reported as a leak.
   *
   * @param target A cell or a pointer.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER when it is not a live block.
   * @example
   * ```ts
   * const config = heap.alloc(Uint8Array, 64);
   * heap.leak(config);
   * ```
   */
  leak(target: Cell<ArrayBufferView> | number): void {
    const ptr = typeof target === "number" ? target : target.ptr;
    this.usableSize(ptr);
    this.#pinned.add(ptr);
    this.guard?.pin(ptr);
  }

  // --- inspection ----------------------------------------------------------------------------

  /**
   * Walks every block and free list and checks every invariant (and, in debug mode, every red
   * zone and quarantined block). Bounded: it ends on any memory contents.
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
      checkHeaderWords(this.m, this.h, this.secret);
      this.verify();
    });
    this.guard?.check();
  }

  /**
   * Capacity, use, peak, block counts, largest free block and fragmentation.
   *
   * @returns The figures.
   * @throws {HeapCorruptionError} ERR_MEMKIT_HEAP_CORRUPTION when the walk meets damaged metadata.
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
   * @throws {HeapCorruptionError} ERR_MEMKIT_HEAP_CORRUPTION when the walk meets damaged metadata.
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
    return located.map((b) => (this.#pinned.has(b.ptr) ? { ...b, intentional: true } : b));
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

  /** Byte view over the whole memory, for reading and writing blocks by pointer (re-read it after growth). */
  get u8(): Uint8Array {
    return this.bytesView;
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
    // The views follow every move of the memory (sync), except a WebAssembly memory grown by the module.
    if (this.wasm) this.sync();
    return this.bytesView.buffer;
  }

  /** Byte offset of the heap's header in its memory (what `attach` needs as `base`). */
  get base(): number {
    return this.h << 2;
  }

  // --- snapshots and recovery ------------------------------------------------------------------

  /**
   * Copies the heap's whole region, so `restore` can erase every allocation and write made since.
   * The copy never holds a taken lock.
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
    return this.locked(() =>
      HeapSnapshot.take(this.bytesView, this.h << 2, this.m[this.h + H_END] as number, {
        secret: this.secret,
        cellSerial: this.#ledger.serial,
        guardState: this.guard?.save(),
      }),
    );
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
    const state = HeapSnapshot.stateFor(snapshot, this.h << 2, this.secret);
    this.locked(() => this.putBack(snapshot));
    const ledger = this.#ledger;
    if (ledger.serial > state.cellSerial) ledger.revoked.push([state.cellSerial, ledger.serial]);
    this.#pinned.clear();
    // Cached blocks belong to the erased timeline; the snapshot already counts its own blocks.
    this.cache?.clear();
    this.guard?.load(state.guardState);
  }

  /** @internal Used by `restore` with the lock held: the bytes back, the lock word kept. */
  protected putBack(snapshot: HeapSnapshot): void {
    const m = this.m;
    const h = this.h;
    const currentEnd = m[h + H_END] as number;
    if (currentEnd < snapshot.end) throw new InvalidSizeError("The snapshot is larger than this heap", snapshot.end);
    // The lock words describe the threads now, not then: keep them.
    const lock = m[h + H_LOCK] as number;
    const seq = m[h + H_LOCK_SEQ] as number;
    const owners = m[h + H_NEXT_OWNER] as number;
    const clean = m[h + H_CLEAN] as number;
    // All or nothing: a snapshot of a damaged heap may fail below; then the heap is left as it was.
    const before = this.bytesView.slice(snapshot.base, currentEnd);
    try {
      this.bytesView.set(snapshot.bytes, snapshot.base);
      m[h + H_LOCK] = lock;
      m[h + H_LOCK_SEQ] = seq;
      m[h + H_NEXT_OWNER] = owners;
      // Bytes used since the snapshot are not known to be zero: the clean mark never moves down.
      m[h + H_CLEAN] = Math.max(clean, m[h + H_CLEAN] as number);
      if (currentEnd > snapshot.end) {
        this.setEnd(currentEnd);
        this.extend(snapshot.end, currentEnd);
        m[h + H_CLEAN] = currentEnd;
      }
    } catch (error) {
      this.bytesView.set(before, snapshot.base);
      this.endSeen = -1;
      throw error;
    }
  }

  /**
   * Validates the heap and rebuilds its free structures: after a `HeapPoisonedError` (a thread died
   * holding the lock mid-operation) or a `HeapCorruptionError`. Every block whose header checks out
   * is kept, live blocks included; runs of bytes whose headers no longer check out (typically the
   * block the dead thread was changing) become free space and are listed in the report. Then the
   * heap is checked and unpoisoned. Blocks other threads held in their caches stay live until those
   * threads flush; blocks a dead thread cached stay allocated (they show in `live()`). Call it once
   * the holder has really stopped: a terminated worker has; a thread that was only stalled past
   * `lockTimeoutMs` may still be finishing its operation (it then gets HeapPoisonedError too).
   *
   * @returns What was kept and what could not be.
   * @throws {HeapCorruptionError} ERR_MEMKIT_HEAP_CORRUPTION when the header itself is beyond repair.
   * @example
   * ```ts
   * try { heap.malloc(64); } catch (e) {
   *   if (e instanceof HeapPoisonedError) console.log(heap.recover().lost);
   * }
   * ```
   */
  recover(): RecoveryReport {
    const m = this.m;
    const h = this.h;
    let wasPoisoned = false;
    if (this.shared) wasPoisoned = lockForRecovery(m, h, this.owner, this.lockTimeoutMs);
    try {
      this.fresh();
      checkHeaderWords(this.m, h, this.secret);
      this.cache?.clear();
      const lost = this.rebuild();
      this.m[h + H_CLEAN] = this.m[h + H_END] as number;
      this.verify();
      const deadOwner = this.m[h + H_DEAD_OWNER] as number;
      this.m[h + H_DEAD_OWNER] = 0;
      return { wasPoisoned, deadOwner, liveBlocks: this.m[h + H_LIVE] as number, lost };
    } finally {
      if (this.shared) unlockHeap(this.m, h, this.owner);
    }
  }
}

/** Checks the header words that must never change against the checksum written at format time. */
export function checkHeaderWords(m: Int32Array, h: number, secret: number): void {
  if (m[h + H_SECRET] !== secret)
    throw new HeapCorruptionError((h + H_SECRET) * 4, "the header's secret was overwritten");
  if (m[h + H_HEADER_SUM] !== headerSum(m, h)) {
    throw new HeapCorruptionError(h * 4, "the header's constant words were overwritten (checksum mismatch)");
  }
}
