import { HeapBase } from "./base.js";
import { markFreed, markLive, tagState, verifyCounters } from "./block-tags.js";
import { UnsupportedError } from "./errors.js";
import {
  ALIGN,
  alignUp,
  BLOCK_HEADER,
  blockTag,
  H_CLEAN,
  H_END,
  H_LIVE,
  H_PARAM,
  H_STATE0,
  H_STATE1,
  H_STRATEGY_WORDS,
  H_USED,
  linkKey,
  MAX_OFFSET,
  STRATEGY_POOL,
  TAG_FREED,
} from "./layout.js";

/**
 * Pool of fixed-size slots: O(1) malloc and free for many objects of one size.
 *
 * ```
 *   start                                                  fresh (H_STATE1)      end
 *   | [size][tag] slot | [size][tag] slot | [size][tag] slot | ... never used ... |
 *                        ^ free slot: first payload word links the next free slot (encoded);
 *                          the list head is H_STATE0 (0 = empty)
 * ```
 * Every slot has the same stride (header + slot size rounded up to 8). Free slots are reused
 * most-recent first; when none is free the pool takes the next never-used slot, growing the
 * memory when it can.
 *
 * Threat model: a buggy writer (an overflow, underflow or stale pointer of the caller, a stray write
 * of a WebAssembly or C module sharing the memory), not an attacker who reads the heap's secret.
 * Invariant: whatever bytes are written anywhere in the heap's memory, no call returns a pointer
 * outside the block region or overlapping a live block, and no call runs forever; each ends
 * normally or throws HeapCorruptionError naming the offset and what was wrong.
 *
 * Hardening (see the README's threat model): a free slot's link is stored encoded (safe-linking
 * keyed by the heap's secret), so a use-after-free write into it decodes to garbage; the head and
 * every link are checked (in range, on a slot boundary, below `fresh`, header tag "freed") before
 * a slot is handed out, so no write can make malloc return a live slot or memory outside the pool.
 */
export class PoolHeap extends HeapBase {
  /** @internal */
  static override readonly strategyId: number = STRATEGY_POOL;
  /** @internal */
  static override readonly controlBytes: number = alignUp(H_STRATEGY_WORDS * 4, ALIGN);
  /** @internal Blocks have exactly the slot size: debug mode checks the slack, no red zones. */
  static override readonly redZones: boolean = false;

  /** Usable bytes of every slot (from the header, whose constant words are checksummed). */
  readonly slotSize: number = alignUp(this.m[this.h + H_PARAM] as number, ALIGN);
  private readonly stride: number = BLOCK_HEADER + this.slotSize;

  /**
   * Pops a free slot without the general path's locking when the heap is plain (no debug guard,
   * no cache, not shared, not WebAssembly) and a freed slot is waiting; the slot is still checked.
   *
   * @param bytes Size in bytes (at most the slot size).
   * @param align Alignment (power of two).
   * @returns The pointer, or 0 when memory is exhausted.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   * @throws {UnsupportedError} ERR_MEMKIT_UNSUPPORTED for a request larger than a slot.
   */
  override tryMalloc(bytes: number, align: number = ALIGN): number {
    const b = this.m[this.h + H_STATE0] as number;
    if (
      !this.plain ||
      align !== ALIGN ||
      typeof bytes !== "number" ||
      bytes >>> 0 !== bytes ||
      bytes > this.slotSize ||
      b === 0 ||
      b >= this.bytesView.length
    ) {
      return super.tryMalloc(bytes, align);
    }
    return this.pop(b);
  }

  /** Takes the checked free slot b off the list head and marks it live (zeroed: it was used before). */
  private pop(b: number): number {
    const m = this.m;
    const h = this.h;
    this.checkFreeSlot(b, (h + H_STATE0) * 4);
    m[h + H_STATE0] = (m[(b + BLOCK_HEADER) >> 2] as number) ^ linkKey(b + BLOCK_HEADER, this.secret);
    return markLive(m, this.bytesView, h, this.secret, b, this.slotSize, this.zeroAlloc);
  }

  /** Throws HeapCorruptionError unless b is a freed slot below `fresh` (named by the word at `from`). */
  private checkFreeSlot(b: number, from: number): void {
    const fresh = this.checkedMark(H_STATE1, "pool's fresh mark");
    if (b < this.start || b >= fresh || (b - this.start) % this.stride !== 0) {
      this.corrupt(from, `a pool free-list link names ${b}, which is not a slot of this pool`);
    }
    if (tagState(this.m, this.secret, b + BLOCK_HEADER) !== "free" || this.m[b >> 2] !== this.slotSize) {
      this.corrupt(b, "a pool free-list link names a slot that is not free (use after free?)");
    }
  }

  protected override format(start: number): void {
    this.m[this.h + H_STATE0] = 0;
    this.setMark(H_STATE1, start);
  }

  protected override extend(): void {}

  /** @internal */
  override checkControl(): void {
    const m = this.m;
    const h = this.h;
    const fresh = this.checkedMark(H_STATE1, "pool's fresh mark");
    if (
      this.slotSize < ALIGN ||
      this.slotSize > 1 << 24 ||
      fresh < this.start ||
      fresh > (m[h + H_END] as number) ||
      (fresh - this.start) % this.stride !== 0
    ) {
      this.corrupt((h + H_STATE1) * 4, `the pool's fresh mark ${fresh} is not a slot boundary inside the pool`);
    }
    const head = m[h + H_STATE0] as number;
    if (head !== 0) this.checkFreeSlot(head, (h + H_STATE0) * 4);
  }

  protected override allocate(bytes: number, align: number): number {
    const slot = this.slotSize;
    if (bytes > slot || align > ALIGN) {
      throw new UnsupportedError(
        `This pool's slots hold ${slot} bytes aligned to ${ALIGN}; a request of ${bytes} bytes aligned to ${align} does not fit. Use a "tlsf" heap for mixed sizes.`,
      );
    }
    const h = this.h;
    const head = this.m[h + H_STATE0] as number;
    if (head !== 0) return this.pop(head);
    const b = this.checkedMark(H_STATE1, "pool's fresh mark");
    if (b < this.start || (b - this.start) % this.stride !== 0 || b > MAX_OFFSET - this.stride) {
      this.corrupt((h + H_STATE1) * 4, `the pool's fresh mark ${b} is not a slot boundary`);
    }
    const next = b + this.stride;
    const end = this.m[h + H_END] as number;
    if (next > end && !this.grow(next - end)) return 0;
    const m = this.m;
    this.setMark(H_STATE1, next);
    // A never-used slot is zero already unless it lies below the clean mark (reused memory).
    const clean = m[h + H_CLEAN] as number;
    const ptr = markLive(m, this.bytesView, h, this.secret, b, slot, this.zeroAlloc && b + BLOCK_HEADER < clean);
    if (next > clean) m[h + H_CLEAN] = next;
    return ptr;
  }

  private checkPointer(ptr: number): void {
    const m = this.m;
    const offset = ptr - this.start - BLOCK_HEADER;
    if (offset < 0 || ptr >= this.checkedMark(H_STATE1, "pool's fresh mark") || (ptr & 7) !== 0) {
      this.invalidPointer(ptr, "it is outside the pool's slots");
    }
    if (offset % this.stride !== 0) this.invalidPointer(ptr, "it is not the start of a slot");
    const state = tagState(m, this.secret, ptr);
    if (state === "free") this.doubleFree(ptr);
    if (state !== "live") this.invalidPointer(ptr, "the slot's header was overwritten");
    if (m[(ptr - BLOCK_HEADER) >> 2] !== this.slotSize)
      this.corrupt(ptr - BLOCK_HEADER, "a slot's size word was overwritten");
  }

  protected override release(ptr: number): void {
    this.checkPointer(ptr);
    const m = this.m;
    const h = this.h;
    markFreed(m, this.bytesView, h, this.secret, ptr, this.zeroFree);
    m[ptr >> 2] = (m[h + H_STATE0] as number) ^ linkKey(ptr, this.secret);
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

  /** The fresh mark, checked: a slot boundary inside the pool. */
  private freshMark(): number {
    this.checkControl();
    return this.m[this.h + H_STATE1] as number;
  }

  protected override walk(visit: (ptr: number, size: number, free: boolean) => void): void {
    const m = this.m;
    const secret = this.secret;
    const slot = this.slotSize;
    const fresh = this.freshMark();
    for (let b = this.start; b < fresh; b += this.stride) {
      const state = tagState(m, secret, b + BLOCK_HEADER);
      if (state === "foreign" || m[b >> 2] !== slot) this.corrupt(b, "a slot header was overwritten");
      visit(b + BLOCK_HEADER, slot, state === "free");
    }
    const end = m[this.h + H_END] as number;
    if (end - fresh > BLOCK_HEADER) visit(fresh + BLOCK_HEADER, end - fresh - BLOCK_HEADER, true);
  }

  protected override verify(): void {
    const m = this.m;
    const h = this.h;
    const fresh = this.freshMark();
    let used = 0;
    let live = 0;
    let free = 0;
    // Invariant: every slot below `fresh` is live, cached or free, with its size word intact.
    this.walk((ptr, size, isFree) => {
      if (ptr > fresh) return;
      if (isFree) free++;
      else {
        used += size;
        live++;
      }
    });
    // Invariant: the free list holds exactly the free slots, each once.
    let listed = 0;
    for (let b = m[h + H_STATE0] as number; b !== 0; ) {
      this.checkFreeSlot(b, b);
      if (++listed > free) this.corrupt(b, "the free list has a cycle");
      b = (m[(b + BLOCK_HEADER) >> 2] as number) ^ linkKey(b + BLOCK_HEADER, this.secret);
    }
    if (listed !== free) this.corrupt(this.start, `${free - listed} free slot(s) missing from the free list`);
    verifyCounters(m, h, used, live);
  }

  /** @internal Keeps live slots; free and unreadable slots form a new free list. */
  protected override rebuild(): { offset: number; bytes: number }[] {
    const m = this.m;
    const h = this.h;
    const fresh = this.freshMark();
    const lost: { offset: number; bytes: number }[] = [];
    let used = 0;
    let live = 0;
    let head = 0;
    for (let b = fresh - this.stride; b >= this.start; b -= this.stride) {
      const state = tagState(m, this.secret, b + BLOCK_HEADER);
      if ((state === "live" || state === "cached") && m[b >> 2] === this.slotSize) {
        used += this.slotSize;
        live++;
        continue;
      }
      if (state !== "free" || m[b >> 2] !== this.slotSize) lost.push({ offset: b, bytes: this.stride });
      m[b >> 2] = this.slotSize;
      m[(b + 4) >> 2] = blockTag(b, this.slotSize, this.secret) ^ TAG_FREED;
      m[(b + BLOCK_HEADER) >> 2] = head ^ linkKey(b + BLOCK_HEADER, this.secret);
      head = b;
    }
    m[h + H_STATE0] = head;
    m[h + H_USED] = used;
    m[h + H_LIVE] = live;
    return lost.reverse();
  }
}
