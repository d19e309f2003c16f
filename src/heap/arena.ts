import { InvalidArgumentError } from "../internal/errors.js";
import {
  forgetNewest,
  NEWEST_WORDS,
  RECENT,
  RECENT_WORDS,
  recentClear,
  recentDropAbove,
  recentHas,
  recentPush,
  recentTop,
} from "./arena-recent.js";
import { HeapBase } from "./base.js";
import { markFreed, markLive, tagState, verifyCounters } from "./block-tags.js";
import {
  ALIGN,
  alignUp,
  BLOCK_HEADER,
  blockTag,
  H_CLEAN,
  H_END,
  H_LIVE,
  H_STATE_CHECK,
  H_STATE0,
  H_STRATEGY_WORDS,
  H_USED,
  MAX_OFFSET,
  STRATEGY_ARENA,
  TAG_FREED,
  wordCheck,
} from "./layout.js";

/**
 * Tag state of a header the top moved below (a reset, a rollback): no block, never read as one. An
 * old header left in memory would otherwise still check out where a new block's payload now lies,
 * and vouch for a stale copy of another header (a block "ending" where it once ended). Even, like
 * the other states, so the tag stays odd and never equals a live one.
 */
const TAG_DROPPED = 0x69696968;

/**
 * Arena (bump allocator): allocation moves a pointer forward; memory comes back all at once with
 * `reset()`, or back to a `mark()`, freeing by scope. `free` of the newest block rolls the top
 * back; other frees only mark the block (its memory returns at the next reset).
 *
 * ```
 *   control words: | newest two blocks (2 words) | recent marks (8 + 1 words) |  (see arena-recent.ts)
 *   start                                                    top (H_STATE0)        end
 *   | [size][tag] payload | [size][tag] payload | [gap] ... | ......... unused .... |
 * ```
 * Every block has TLSF's two-word header (tag = checksum of the size keyed by the heap's secret),
 * so pointers are validated and double frees caught the same way. An aligned request may leave a
 * gap: it is written as a freed filler block, so a walk from `start` always lands exactly on `top`.
 *
 * Threat model: a buggy writer (an overflow, underflow or stale pointer of the caller, a stray write
 * of a WebAssembly or C module sharing the memory), not an attacker who reads the heap's secret.
 * Invariant: whatever bytes are written anywhere in the heap's memory, no call returns a pointer
 * outside the block region or overlapping a live block, and no call runs forever; each ends
 * normally or throws HeapCorruptionError naming the offset and what was wrong.
 *
 * Hardening (see the README's threat model): the top is range-checked before every use; a block
 * is used only when its tag checks out and its size keeps it below the top; walks step by at
 * least one header and stop at the top, so they end whatever the memory holds. A header is in-band:
 * a stale copy of an older block's header written back at the same address checks out, and the
 * bytes at an old mark may hold such a header. So the top moves down only on out-of-band evidence:
 * free and realloc roll it back only for the newest block the control words name (after more than
 * two frees in a row in LIFO order they name none, and the header alone vouches), and reset(mark)
 * trusts a mark only when it is on the stack of recent marks or a walk from the start lands on it.
 */
export class ArenaHeap extends HeapBase {
  /** @internal */
  static override readonly strategyId: number = STRATEGY_ARENA;
  /** @internal */
  static override readonly controlBytes: number = alignUp((H_STRATEGY_WORDS + NEWEST_WORDS + RECENT_WORDS) * 4, ALIGN);

  /** Word index of the newest two blocks' headers, newest first (-1: not known; see arena-recent.ts). */
  private readonly blocksAt: number = this.h + H_STRATEGY_WORDS;
  /** Word index of the stack of recent marks. */
  private readonly marksAt: number = this.h + H_STRATEGY_WORDS + NEWEST_WORDS;

  /** The top, checked: inside [start, end], 8-aligned, and confirmed by its check word. */
  private get top(): number {
    return this.checkedMark(H_STATE0, "arena top");
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
    return this.locked(() => {
      const top = this.top;
      if (recentTop(this.m, this.marksAt) !== top) recentPush(this.m, this.marksAt, top);
      return top;
    });
  }

  /**
   * Frees every block allocated after `mark` (or every block, without a mark) in time
   * proportional to the blocks dropped. A mark among the last 8 `mark()` handed out is known to
   * still be a block boundary; an older one is first checked by a walk from the start.
   *
   * @param mark From `mark()`; omit to empty the arena.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for a mark above the top or not on a block boundary.
   * @throws {HeapCorruptionError} ERR_MEMKIT_HEAP_CORRUPTION when a block header above the mark was overwritten.
   * @example
   * ```ts
   * arena.reset();
   * ```
   */
  reset(mark: number = this.start): void {
    this.locked(() => {
      const top = this.top;
      if (typeof mark !== "number" || !Number.isInteger(mark) || mark < this.start || mark > top || (mark & 7) !== 0) {
        throw new InvalidArgumentError(`Mark ${String(mark)} is not a mark of this arena (top is ${top})`);
      }
      if (mark !== this.start && mark !== top && !recentHas(this.m, this.marksAt, mark) && !this.boundary(mark, top)) {
        throw new InvalidArgumentError(
          `Mark ${mark} is not on a block boundary of this arena: a block allocated before it now spans it (grown in place, or laid over it after the top rolled back); take marks again after such changes`,
        );
      }
      // Validate the whole chain first: nothing changes unless every block up to the top checks out.
      this.eachBlock(mark, top, () => {});
      const m = this.m;
      this.eachBlock(mark, top, (ptr, live, size) => {
        if (live) markFreed(m, this.bytesView, this.h, this.secret, ptr, this.zeroFree);
        m[(ptr - 4) >> 2] = blockTag(ptr - BLOCK_HEADER, size, this.secret) ^ TAG_DROPPED;
      });
      this.setMark(H_STATE0, mark);
      forgetNewest(m, this.blocksAt);
      recentDropAbove(m, this.marksAt, mark);
      this.forgetRange(mark, top);
    });
  }

  /** Whether a walk from the start lands on `mark` (below `top`); throws on a damaged header. */
  private boundary(mark: number, top: number): boolean {
    const m = this.m;
    let b = this.start;
    while (b < mark) {
      const size = m[b >> 2] as number;
      if (
        tagState(m, this.secret, b + BLOCK_HEADER) === "foreign" ||
        size < 0 ||
        (size & 7) !== 0 ||
        b + 8 + size > top
      ) {
        this.corrupt(b, `an arena block header was overwritten (checksum mismatch or impossible size ${size})`);
      }
      b += BLOCK_HEADER + size;
    }
    return b === mark;
  }

  /**
   * Whether the block whose header is at b (and whose header says it ends at the top) may be taken
   * as the newest: the control words name it, or they do not know the newest (after more than two
   * frees in a row in LIFO order, a reset or a recover), where only its header vouches for it.
   */
  private newest(b: number): boolean {
    const n = this.m[this.blocksAt] as number;
    return n === b || n === -1;
  }

  /** Whether the header at b is one a reset or rollback dropped (its block was freed, then let go). */
  private dropped(b: number): boolean {
    const m = this.m;
    return ((m[(b + 4) >> 2] as number) ^ blockTag(b, m[b >> 2] as number, this.secret)) === TAG_DROPPED;
  }

  /**
   * The freed block at b ends at the top: when it is the newest (see `newest`), the top moves down
   * to b, the one before becomes the newest, and marks above b go.
   */
  private rollBack(b: number): void {
    if (!this.newest(b)) return;
    const m = this.m;
    this.setMark(H_STATE0, b);
    // Freed a moment ago: freed -> dropped is one xor.
    m[(b + 4) >> 2] = (m[(b + 4) >> 2] as number) ^ (TAG_FREED ^ TAG_DROPPED);
    // The one before becomes the newest (or unknown, -1).
    m[this.blocksAt] = m[this.blocksAt + 1] as number;
    m[this.blocksAt + 1] = -1;
    // Marks are rare on the hot path: the empty stack (state word 0) is one load.
    if (m[this.marksAt + RECENT] !== 0) recentDropAbove(m, this.marksAt, b);
  }

  /** Visits the blocks in [from, top), checking each header; bounded (each step is >= 8 bytes). */
  private eachBlock(from: number, top: number, visit: (ptr: number, live: boolean, size: number) => void): void {
    const m = this.m;
    let b = from;
    while (b < top) {
      const ptr = b + BLOCK_HEADER;
      const size = m[b >> 2] as number;
      const state = tagState(m, this.secret, ptr);
      if (state === "foreign") this.corrupt(b, "an arena block header was overwritten (checksum mismatch)");
      if (size < 0 || (size & 7) !== 0 || ptr + size > top) this.corrupt(b, `impossible block size ${size}`);
      visit(ptr, state === "live", size);
      b = ptr + size;
    }
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
    if (!this.plain || align !== ALIGN || typeof bytes !== "number" || bytes >>> 0 !== bytes || bytes > MAX_OFFSET) {
      return super.tryMalloc(bytes, align);
    }
    const m = this.m;
    const h = this.h;
    const top = m[h + H_STATE0] as number;
    const size = bytes === 0 ? ALIGN : (bytes + 7) & -8;
    const end = top + BLOCK_HEADER + size;
    // Past the end (growth needed), views stale or a top that does not check out: the general path.
    if (
      end > (m[h + H_END] as number) ||
      end > this.bytesView.length ||
      top < this.start ||
      m[h + H_STATE_CHECK] !== wordCheck(H_STATE0, top, this.secret)
    ) {
      return super.tryMalloc(bytes, align);
    }
    this.setMark(H_STATE0, end);
    m[this.blocksAt + 1] = m[this.blocksAt] as number;
    m[this.blocksAt] = top;
    return this.bump(top, size, end);
  }

  /** Marks the block at b live, zeroing only bytes that were handed out before (below the clean mark). */
  private bump(b: number, size: number, end: number): number {
    const m = this.m;
    const ptr = markLive(m, this.bytesView, this.h, this.secret, b, size, false);
    const clean = m[this.h + H_CLEAN] as number;
    if (this.zeroAlloc && ptr < clean) this.bytesView.fill(0, ptr, end < clean ? end : clean);
    if (end > clean) m[this.h + H_CLEAN] = end;
    return ptr;
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
      m[h + H_STATE_CHECK] !== wordCheck(H_STATE0, top, this.secret) ||
      typeof ptr !== "number" ||
      ptr >>> 0 !== ptr ||
      (ptr & 7) !== 0 ||
      ptr < this.start + BLOCK_HEADER ||
      ptr >= top ||
      top > this.bytesView.length
    ) {
      super.free(ptr);
      return;
    }
    const b = ptr - BLOCK_HEADER;
    const size = m[b >> 2] as number;
    if (m[(b + 4) >> 2] !== blockTag(b, size, this.secret) || size < 0 || ptr + size > top) {
      super.free(ptr);
      return;
    }
    markFreed(m, this.bytesView, h, this.secret, ptr, this.zeroFree);
    // One call, not the checks inline: a small free is inlined into its callers.
    if (ptr + size === top) this.rollBack(b);
  }

  protected override format(start: number): void {
    this.setMark(H_STATE0, start);
    forgetNewest(this.m, this.blocksAt);
    recentClear(this.m, this.marksAt);
  }

  protected override extend(): void {}

  /** @internal */
  override checkControl(): void {
    void this.top;
  }

  protected override allocate(bytes: number, align: number): number {
    // Larger than any region can be (and past where 32-bit size arithmetic stays exact): no fit.
    if (bytes > MAX_OFFSET - (1 << 20)) return 0;
    const size = bytes === 0 ? ALIGN : (bytes + 7) & -8;
    const top = this.top;
    const ptr = align <= ALIGN ? top + BLOCK_HEADER : alignUp(top + BLOCK_HEADER, align);
    const end = ptr + size;
    const haveEnd = this.m[this.h + H_END] as number;
    if (end > haveEnd && !this.grow(end - haveEnd)) return 0;
    const m = this.m;
    if (ptr - BLOCK_HEADER !== top) {
      // Filler so walks stay exact: a freed block spanning the alignment gap.
      const gap = ptr - BLOCK_HEADER - top - BLOCK_HEADER;
      m[top >> 2] = gap;
      m[(top + 4) >> 2] = blockTag(top, gap, this.secret) ^ TAG_FREED;
    }
    this.setMark(H_STATE0, end);
    m[this.blocksAt + 1] = m[this.blocksAt] as number;
    m[this.blocksAt] = ptr - BLOCK_HEADER;
    return this.bump(ptr - BLOCK_HEADER, size, end);
  }

  /** Checks that ptr is a live block below the top (tag, size); throws the right error otherwise. */
  private checkPointer(ptr: number): number {
    const top = this.top;
    if ((ptr & 7) !== 0 || ptr < this.start + BLOCK_HEADER || ptr >= top) {
      this.invalidPointer(ptr, (ptr & 7) !== 0 ? "it is not 8-byte aligned" : "it is outside the arena's used part");
    }
    const state = tagState(this.m, this.secret, ptr);
    if (state === "free") this.doubleFree(ptr);
    if (state === "foreign" && this.dropped(ptr - BLOCK_HEADER)) this.doubleFree(ptr);
    if (state === "foreign" || state === "cached") this.invalidPointer(ptr, "no block starts there");
    const size = this.m[(ptr - BLOCK_HEADER) >> 2] as number;
    if (size < 0 || ptr + size > top) this.corrupt(ptr - BLOCK_HEADER, `impossible block size ${size}`);
    // Invariant: a block ends at the top or where the next header (block or filler) starts. A stale
    // copy of an older header at ptr checks out but claims another size: its end lands inside a block.
    if (ptr + size !== top && tagState(this.m, this.secret, ptr + size + BLOCK_HEADER) === "foreign") {
      this.corrupt(
        ptr - BLOCK_HEADER,
        `block ${ptr} says it holds ${size} bytes, but no block header follows there (a stale header written back, or the next header overwritten)`,
      );
    }
    return size;
  }

  protected override release(ptr: number): void {
    const size = this.checkPointer(ptr);
    const top = this.top;
    markFreed(this.m, this.bytesView, this.h, this.secret, ptr, this.zeroFree);
    if (ptr + size === top) this.rollBack(ptr - BLOCK_HEADER);
  }

  protected override usable(ptr: number): number {
    return this.checkPointer(ptr);
  }

  protected override reallocate(ptr: number, bytes: number): number {
    const have = this.checkPointer(ptr);
    const size = bytes === 0 ? ALIGN : (bytes + 7) & -8;
    const secret = this.secret;
    if (ptr + have === this.top && this.newest(ptr - BLOCK_HEADER)) {
      // The newest block resizes in place by moving the top; marks inside it are no longer boundaries.
      const end = ptr + size;
      const haveEnd = this.m[this.h + H_END] as number;
      if (end > haveEnd && !this.grow(end - haveEnd)) return 0;
      // The tail leaves the block: wiped first when freed bytes must not keep their contents.
      if (this.zeroFree && size < have) this.bytesView.fill(0, ptr + size, ptr + have);
      markFreed(this.m, this.bytesView, this.h, secret, ptr, false);
      this.setMark(H_STATE0, end);
      markLive(this.m, this.bytesView, this.h, secret, ptr - BLOCK_HEADER, size, false);
      if (this.zeroAlloc && size > have) this.bytesView.fill(0, ptr + have, ptr + size);
      if (end > (this.m[this.h + H_CLEAN] as number)) this.m[this.h + H_CLEAN] = end;
      recentDropAbove(this.m, this.marksAt, ptr - BLOCK_HEADER);
      return ptr;
    }
    if (size <= have) return ptr;
    return this.relocate(ptr, have, bytes);
  }

  protected override walk(visit: (ptr: number, size: number, free: boolean) => void): void {
    const top = this.top;
    this.eachBlock(this.start, top, (ptr, live, size) => visit(ptr, size, !live));
    const end = this.m[this.h + H_END] as number;
    if (end - top > BLOCK_HEADER) visit(top + BLOCK_HEADER, end - top - BLOCK_HEADER, true);
  }

  protected override verify(): void {
    let used = 0;
    let live = 0;
    this.eachBlock(this.start, this.top, (_ptr, isLive, size) => {
      if (isLive) {
        used += size;
        live++;
      }
    });
    verifyCounters(this.m, this.h, used, live);
  }

  /** @internal Keeps every block whose header checks out; unreadable runs become freed fillers. */
  protected override rebuild(): { offset: number; bytes: number }[] {
    const m = this.m;
    const top = this.top;
    const lost: { offset: number; bytes: number }[] = [];
    let used = 0;
    let live = 0;
    let b = this.start;
    while (b < top) {
      const size = m[b >> 2] as number;
      const state = tagState(m, this.secret, b + BLOCK_HEADER);
      if (state !== "foreign" && size >= 0 && (size & 7) === 0 && b + BLOCK_HEADER + size <= top) {
        if (state !== "free") {
          used += size;
          live++;
        }
        b += BLOCK_HEADER + size;
        continue;
      }
      let next = b + BLOCK_HEADER;
      while (next < top && tagState(m, this.secret, next + BLOCK_HEADER) === "foreign") next += ALIGN;
      if (next > top) next = top;
      const gap = next - b - BLOCK_HEADER;
      m[b >> 2] = gap;
      m[(b + 4) >> 2] = blockTag(b, gap, this.secret) ^ TAG_FREED;
      lost.push({ offset: b, bytes: next - b });
      b = next;
    }
    m[this.h + H_USED] = used;
    m[this.h + H_LIVE] = live;
    // Recent history is not known to hold after damage: no rollback, older marks are walked to.
    forgetNewest(m, this.blocksAt);
    recentClear(m, this.marksAt);
    return lost;
  }
}
