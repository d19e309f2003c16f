import { markFreed, markLive, tagState, verifyCounters } from "./block-tags.js";
import { HeapCorruptionError, UnsupportedError } from "./errors.js";
import { Heap } from "./heap.js";
import {
  ALIGN,
  alignUp,
  BLOCK_HEADER,
  H_END,
  H_PARAM,
  H_STATE0,
  H_STATE1,
  H_STRATEGY_WORDS,
  STRATEGY_POOL,
} from "./layout.js";

/**
 * Pool of fixed-size slots: O(1) malloc and free for many objects of one size.
 *
 * ```
 *   start                                                  fresh (H_STATE1)      end
 *   | [size][tag] slot | [size][tag] slot | [size][tag] slot | ... never used ... |
 *                        ^ free slot: first payload word links the next free slot;
 *                          the list head is H_STATE0 (0 = empty)
 * ```
 * Every slot has the same stride (header + slot size rounded up to 8). Free slots are reused
 * most-recent first; when none is free the pool takes the next never-used slot, growing the
 * memory when it can.
 */
export class PoolHeap extends Heap {
  static override readonly strategyId: number = STRATEGY_POOL;
  static override readonly controlBytes: number = alignUp(H_STRATEGY_WORDS * 4, ALIGN);

  /** Usable bytes of every slot. */
  get slotSize(): number {
    return alignUp(this.m[this.h + H_PARAM] as number, ALIGN);
  }

  /**
   * Pops a free slot without the general path's checks when the heap is plain (no debug guard,
   * no cache, not shared, not WebAssembly) and a freed slot is waiting.
   *
   * @param bytes Size in bytes (at most the slot size).
   * @param align Alignment (power of two).
   * @returns The pointer, or 0 when memory is exhausted.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   * @throws {UnsupportedError} ERR_MEMKIT_UNSUPPORTED for a request larger than a slot.
   */
  override tryMalloc(bytes: number, align: number = ALIGN): number {
    const m = this.m;
    const h = this.h;
    const b = m[h + H_STATE0] as number;
    const slot = this.slotSize;
    if (!this.plain || align !== ALIGN || bytes >>> 0 !== bytes || bytes > slot || b === 0 || b >= this.u8.length) {
      return super.tryMalloc(bytes, align);
    }
    m[h + H_STATE0] = m[(b + BLOCK_HEADER) >> 2] as number;
    return markLive(m, this.u8, h, this.secret, b, slot, this.zeroAlloc);
  }

  protected override format(start: number): void {
    this.m[this.h + H_STATE0] = 0;
    this.m[this.h + H_STATE1] = start;
  }

  protected override extend(): void {}

  protected override allocate(bytes: number, align: number): number {
    const slot = this.slotSize;
    if (bytes > slot || align > ALIGN) {
      throw new UnsupportedError(
        `This pool's slots hold ${slot} bytes aligned to ${ALIGN}; a request of ${bytes} bytes aligned to ${align} does not fit. Use a "tlsf" heap for mixed sizes.`,
      );
    }
    const h = this.h;
    let m = this.m;
    let b = m[h + H_STATE0] as number;
    if (b !== 0) {
      m[h + H_STATE0] = m[(b + BLOCK_HEADER) >> 2] as number;
    } else {
      b = m[h + H_STATE1] as number;
      const next = b + BLOCK_HEADER + slot;
      if (next > (m[h + H_END] as number) && !this.grow(next - (m[h + H_END] as number))) return 0;
      m = this.m;
      m[h + H_STATE1] = next;
    }
    return markLive(m, this.u8, h, this.secret, b, slot, this.zeroAlloc);
  }

  private checkPointer(ptr: number): void {
    const m = this.m;
    const offset = ptr - this.start - BLOCK_HEADER;
    if (offset < 0 || ptr >= (m[this.h + H_STATE1] as number))
      this.invalidPointer(ptr, "it is outside the pool's slots");
    if (offset % (BLOCK_HEADER + this.slotSize) !== 0) this.invalidPointer(ptr, "it is not the start of a slot");
    const state = tagState(m, this.secret, ptr);
    if (state === "free") this.doubleFree(ptr);
    if (state === "foreign") this.invalidPointer(ptr, "the slot's header was overwritten");
  }

  protected override release(ptr: number): void {
    this.checkPointer(ptr);
    const m = this.m;
    const h = this.h;
    markFreed(m, this.u8, h, this.secret, ptr, this.zeroFree);
    m[ptr >> 2] = m[h + H_STATE0] as number;
    m[h + H_STATE0] = ptr - BLOCK_HEADER;
  }

  protected override usable(ptr: number): number {
    this.checkPointer(ptr);
    return this.slotSize;
  }

  protected override reallocate(ptr: number, bytes: number): number {
    this.checkPointer(ptr);
    if (bytes > this.slotSize) {
      throw new UnsupportedError(`Cannot grow a pool slot of ${this.slotSize} bytes to ${bytes}; use a "tlsf" heap.`);
    }
    return ptr;
  }

  protected override walk(visit: (ptr: number, size: number, free: boolean) => void): void {
    const m = this.m;
    const secret = this.secret;
    const slot = this.slotSize;
    const fresh = m[this.h + H_STATE1] as number;
    for (let b = this.start; b < fresh; b += BLOCK_HEADER + slot) {
      visit(b + BLOCK_HEADER, slot, tagState(m, secret, b + BLOCK_HEADER) !== "live");
    }
    const end = m[this.h + H_END] as number;
    if (end - fresh > BLOCK_HEADER) visit(fresh + BLOCK_HEADER, end - fresh - BLOCK_HEADER, true);
  }

  protected override verify(): void {
    const m = this.m;
    const h = this.h;
    const secret = this.secret;
    const slot = this.slotSize;
    const fresh = m[h + H_STATE1] as number;
    let used = 0;
    let live = 0;
    let free = 0;
    for (let b = this.start; b < fresh; b += BLOCK_HEADER + slot) {
      const state = tagState(m, secret, b + BLOCK_HEADER);
      // Invariant: every slot below `fresh` is live or free, with its size word intact.
      if (state === "foreign" || m[b >> 2] !== slot) throw new HeapCorruptionError(b, "a slot header was overwritten");
      if (state === "live") {
        used += slot;
        live++;
      } else free++;
    }
    // Invariant: the free list holds exactly the free slots, each once.
    let listed = 0;
    for (let b = m[h + H_STATE0] as number; b !== 0; b = m[(b + BLOCK_HEADER) >> 2] as number) {
      if (b < this.start || b >= fresh || tagState(m, secret, b + BLOCK_HEADER) !== "free") {
        throw new HeapCorruptionError(b, "the free list links to a slot that is not free");
      }
      if (++listed > free) throw new HeapCorruptionError(b, "the free list has a cycle");
    }
    if (listed !== free)
      throw new HeapCorruptionError(this.start, `${free - listed} free slot(s) missing from the free list`);
    verifyCounters(m, h, used, live);
  }
}

Heap.registerStrategy(PoolHeap);
