import { InvalidArgumentError } from "../internal/errors.js";
import { markFreed, markLive, tagState, verifyCounters } from "./block-tags.js";
import { HeapCorruptionError } from "./errors.js";
import { Heap } from "./heap.js";
import {
  ALIGN,
  alignUp,
  BLOCK_HEADER,
  freeTag,
  H_END,
  H_STATE0,
  H_STRATEGY_WORDS,
  liveTag,
  STRATEGY_ARENA,
} from "./layout.js";

/**
 * Arena (bump allocator): allocation moves a pointer forward; memory comes back all at once with
 * `reset()`, or back to a `mark()`, freeing by scope. `free` of the newest block rolls the top
 * back; other frees only mark the block (its memory returns at the next reset).
 *
 * ```
 *   start                                                    top (H_STATE0)        end
 *   | [size][tag] payload | [size][tag] payload | [gap] ... | ......... unused .... |
 * ```
 * Every block has TLSF's two-word header, so pointers are validated and double frees caught the
 * same way. An aligned request may leave a gap: it is written as a freed filler block, so a walk
 * from `start` always lands exactly on `top`.
 */
export class ArenaHeap extends Heap {
  static override readonly strategyId: number = STRATEGY_ARENA;
  static override readonly controlBytes: number = alignUp(H_STRATEGY_WORDS * 4, ALIGN);

  private get top(): number {
    return this.m[this.h + H_STATE0] as number;
  }

  /**
   * The current top, to pass to `reset(mark)` later.
   *
   * @returns An opaque mark.
   * @example
   * ```ts
   * const mark = arena.mark();
   * arena.malloc(100);
   * arena.reset(mark); // the 100 bytes are gone
   * ```
   */
  mark(): number {
    return this.top;
  }

  /**
   * Frees every block allocated after `mark` (or every block, without a mark) in time
   * proportional to the blocks dropped.
   *
   * @param mark From `mark()`; omit to empty the arena.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for a mark above the top or not on a block boundary.
   * @example
   * ```ts
   * arena.reset();
   * ```
   */
  reset(mark: number = this.start): void {
    const m = this.m;
    const top = this.top;
    if (!Number.isInteger(mark) || mark < this.start || mark > top || (mark & 7) !== 0) {
      throw new InvalidArgumentError(`Mark ${mark} is not a mark of this arena (top is ${top})`);
    }
    const secret = this.secret;
    // Validate the whole chain first: a mark inside a block would otherwise drop half a block.
    let b = mark;
    while (b < top) {
      if (tagState(m, secret, b + BLOCK_HEADER) === "foreign") break;
      b += BLOCK_HEADER + (m[b >> 2] as number);
    }
    if (b !== top) throw new InvalidArgumentError(`Mark ${mark} is not on a block boundary of this arena`);
    for (b = mark; b < top; b += BLOCK_HEADER + (m[b >> 2] as number)) {
      if (tagState(m, secret, b + BLOCK_HEADER) === "live")
        markFreed(m, this.u8, this.h, secret, b + BLOCK_HEADER, this.zeroFree);
    }
    m[this.h + H_STATE0] = mark;
  }

  /**
   * Bump allocation without the general path's checks when the heap is plain (no debug guard,
   * no cache, not shared, not WebAssembly) and the block fits: the point of an arena is speed.
   *
   * @param bytes Size in bytes.
   * @param align Alignment (power of two).
   * @returns The pointer, or 0 when memory is exhausted.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   */
  override tryMalloc(bytes: number, align: number = ALIGN): number {
    if (!this.plain || align !== ALIGN || bytes >>> 0 !== bytes) return super.tryMalloc(bytes, align);
    const m = this.m;
    const h = this.h;
    const top = m[h + H_STATE0] as number;
    const size = bytes === 0 ? ALIGN : (bytes + 7) & -8;
    const end = top + BLOCK_HEADER + size;
    // Past the end (growth needed) or views stale: the general path handles it.
    if (end > (m[h + H_END] as number) || end > this.u8.length) return super.tryMalloc(bytes, align);
    m[h + H_STATE0] = end;
    return markLive(m, this.u8, h, this.secret, top, size, this.zeroAlloc);
  }

  /**
   * Frees without the general path's checks when the heap is plain and `ptr` is plainly a live
   * block; anything doubtful goes the general way, which reports the right error.
   *
   * @param ptr A pointer from this arena.
   * @throws {DoubleFreeError} ERR_MEMKIT_DOUBLE_FREE / {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER.
   */
  override free(ptr: number): void {
    const m = this.m;
    const h = this.h;
    const top = m[h + H_STATE0] as number;
    if (
      !this.plain ||
      ptr >>> 0 !== ptr ||
      (ptr & 7) !== 0 ||
      ptr < this.start + BLOCK_HEADER ||
      ptr >= top ||
      top > this.u8.length ||
      m[(ptr - 4) >> 2] !== liveTag(ptr, this.secret)
    ) {
      super.free(ptr);
      return;
    }
    const size = markFreed(m, this.u8, h, this.secret, ptr, this.zeroFree);
    if (ptr + size === top) m[h + H_STATE0] = ptr - BLOCK_HEADER;
  }

  protected override format(start: number): void {
    this.m[this.h + H_STATE0] = start;
  }

  protected override extend(): void {}

  protected override allocate(bytes: number, align: number): number {
    const m = this.m;
    const size = bytes === 0 ? ALIGN : (bytes + 7) & -8;
    const top = this.top;
    const ptr = align <= ALIGN ? top + BLOCK_HEADER : alignUp(top + BLOCK_HEADER, align);
    const end = ptr + size;
    if (end > (m[this.h + H_END] as number) && !this.grow(end - (m[this.h + H_END] as number))) return 0;
    const mm = this.m;
    const secret = this.secret;
    if (ptr - BLOCK_HEADER !== top) {
      // Filler so walks stay exact: a freed block spanning the alignment gap.
      mm[top >> 2] = ptr - BLOCK_HEADER - top - BLOCK_HEADER;
      mm[(top + 4) >> 2] = freeTag(top + BLOCK_HEADER, secret);
    }
    mm[this.h + H_STATE0] = end;
    return markLive(mm, this.u8, this.h, secret, ptr - BLOCK_HEADER, size, this.zeroAlloc);
  }

  private checkPointer(ptr: number): void {
    const top = this.top;
    if ((ptr & 7) !== 0 || ptr < this.start + BLOCK_HEADER || ptr >= top) {
      this.invalidPointer(ptr, (ptr & 7) !== 0 ? "it is not 8-byte aligned" : "it is outside the arena's used part");
    }
    const state = tagState(this.m, this.secret, ptr);
    if (state === "free") this.doubleFree(ptr);
    if (state === "foreign") this.invalidPointer(ptr, "no block starts there");
  }

  protected override release(ptr: number): void {
    this.checkPointer(ptr);
    const m = this.m;
    const size = markFreed(m, this.u8, this.h, this.secret, ptr, this.zeroFree);
    if (ptr + size === this.top) m[this.h + H_STATE0] = ptr - BLOCK_HEADER;
  }

  protected override usable(ptr: number): number {
    this.checkPointer(ptr);
    return this.m[(ptr - BLOCK_HEADER) >> 2] as number;
  }

  protected override reallocate(ptr: number, bytes: number): number {
    this.checkPointer(ptr);
    const m = this.m;
    const have = m[(ptr - BLOCK_HEADER) >> 2] as number;
    const size = bytes === 0 ? ALIGN : (bytes + 7) & -8;
    const secret = this.secret;
    if (ptr + have === this.top) {
      // The newest block resizes in place by moving the top.
      const end = ptr + size;
      if (end > (m[this.h + H_END] as number) && !this.grow(end - (m[this.h + H_END] as number))) return 0;
      markFreed(this.m, this.u8, this.h, secret, ptr, false);
      this.m[this.h + H_STATE0] = end;
      markLive(this.m, this.u8, this.h, secret, ptr - BLOCK_HEADER, size, false);
      if (this.zeroAlloc && size > have) this.u8.fill(0, ptr + have, ptr + size);
      return ptr;
    }
    if (size <= have) return ptr;
    return this.relocate(ptr, have, bytes);
  }

  protected override walk(visit: (ptr: number, size: number, free: boolean) => void): void {
    const m = this.m;
    const secret = this.secret;
    const top = this.top;
    for (let b = this.start; b < top; ) {
      const ptr = b + BLOCK_HEADER;
      const size = m[b >> 2] as number;
      visit(ptr, size, tagState(m, secret, ptr) !== "live");
      b = ptr + size;
    }
    const end = m[this.h + H_END] as number;
    if (end - top > BLOCK_HEADER) visit(top + BLOCK_HEADER, end - top - BLOCK_HEADER, true);
  }

  protected override verify(): void {
    const m = this.m;
    const secret = this.secret;
    const top = this.top;
    // Invariant: start <= top <= end, and blocks tile [start, top) exactly.
    if (top < this.start || top > (m[this.h + H_END] as number))
      throw new HeapCorruptionError(this.h * 4, "arena top out of range");
    let used = 0;
    let live = 0;
    let b = this.start;
    while (b < top) {
      const ptr = b + BLOCK_HEADER;
      const size = m[b >> 2] as number;
      if (size < 0 || (size & 7) !== 0 || ptr + size > top)
        throw new HeapCorruptionError(b, `impossible block size ${size}`);
      const state = tagState(m, secret, ptr);
      if (state === "foreign") throw new HeapCorruptionError(b + 4, "a block's tag was overwritten");
      if (state === "live") {
        used += size;
        live++;
      }
      b = ptr + size;
    }
    if (b !== top) throw new HeapCorruptionError(b, "blocks do not end at the arena top");
    verifyCounters(m, this.h, used, live);
  }
}

Heap.registerStrategy(ArenaHeap);
