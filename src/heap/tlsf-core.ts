import { HeapBase } from "./base.js";
import type { EngineExports } from "./engine.js";
import * as layout from "./layout.js";

// Module-local copies of what the hot paths use from layout.ts: V8 reads an imported binding
// through its module cell at every use and cannot fold it as a constant (measured, W1 replay:
// 51 -> 44.5 ns per event with local copies). The hot paths (allocate, release, reallocate,
// insertFree, removeFree, isFree) also write blockTag and linkKey out as
// `Math.imul(word ^ b ^ secret, TAG_MUL) | 1` and `Math.imul(at ^ secret, LINK_MUL) ^ secret`:
// V8 had stopped inlining the calls there once its per-function inlining budget was spent.
const ALIGN = layout.ALIGN;
const alignUp = layout.alignUp;
const BLOCK_HEADER = layout.BLOCK_HEADER;
const blockTag = layout.blockTag;
const H_CLEAN = layout.H_CLEAN;
const H_END = layout.H_END;
const H_HIGH_WATER = layout.H_HIGH_WATER;
const H_LIVE = layout.H_LIVE;
const H_PEAK = layout.H_PEAK;
const H_STRATEGY_WORDS = layout.H_STRATEGY_WORDS;
const H_USED = layout.H_USED;
const linkKey = layout.linkKey;
const MAX_OFFSET = layout.MAX_OFFSET;
const STRATEGY_TLSF = layout.STRATEGY_TLSF;
const TAG_CACHED = layout.TAG_CACHED;
const TAG_FREED = layout.TAG_FREED;
const TAG_MUL = layout.TAG_MUL;
const LINK_MUL = layout.LINK_MUL;

/**
 * TLSF: two-level segregated fit. O(1) malloc and free, immediate coalescing, good fit.
 *
 * Block layout (every block starts 8-aligned, so every payload is 8-aligned):
 * ```
 *   live block                          free block
 *   +------------------+ b              +------------------+ b
 *   | size | L | F=0   |  word 0        | size | L=0 | F=1 |  (a free block never has a free left neighbour)
 *   +------------------+                +------------------+
 *   | tag              |  word 1        | tag              |  tag = blockTag(b, size|F, secret) ^ state
 *   +------------------+ ptr = b + 8    +------------------+ b + 8
 *   | payload          |                | prev ^ key | next ^ key |  encoded links of its size-class list
 *   | (size bytes)     |                | ...              |
 *   |                  |                | back = b         |  last word: lets the right neighbour find b
 *   +------------------+ b + 8 + size   +------------------+ b + 8 + size
 *   F: this block is free. L: the block to the left is free (then the word just before b is its start).
 * ```
 * Region: [header + control words][first block ... ][sentinel: size 0, live] where the sentinel
 * stops coalescing at the end and becomes the start of new memory when the heap grows.
 *
 * Size classes: sizes below 128 map linearly (first level 0, second level size / 8); larger sizes
 * map to first level log2(size) - 6 and 16 second-level classes within that power of two.
 * A first-level bitmap and one second-level bitmap per first level say which lists are non-empty,
 * so finding a fit is two count-trailing-zeros.
 *
 * Threat model: a buggy writer (an overflow, underflow or stale pointer of the caller, a stray write
 * of a WebAssembly or C module sharing the memory), not an attacker who reads the heap's secret.
 * Invariant: whatever bytes are written anywhere in the heap's memory, no call returns a pointer
 * outside the block region or overlapping a live block, and no call runs forever; each ends
 * normally or throws HeapCorruptionError naming the offset and what was wrong.
 *
 * Hardening (threat model and invariant: see the README's heap section). Nothing read from the
 * heap's memory is used before it is validated:
 * - a header is used only when its tag checks out (`header`), so a size or F flag changed by a
 *   stray write, or a header copied elsewhere, is a HeapCorruptionError, never a wrong block;
 * - a free-list link is stored encoded (`linkKey`), decoded, range- and alignment-checked, and the
 *   block it names must be a checked free block whose own links point back (`unlist`);
 * - a back pointer (L flag set) must name a checked free block that ends exactly here;
 * - every walk steps by a checked size of at least MIN_SIZE inside [start, sentinel], so it ends.
 */

const F_FREE = 1;
const F_LEFT_FREE = 2;
const FLAGS = 7;
const SL_BITS = 4;
const SL_COUNT = 1 << SL_BITS;
const SB_BITS = SL_BITS + 3; // sizes below 2^SB_BITS use the linear first level
const SB_SIZE = 1 << SB_BITS;
const FL_COUNT = 31 - SB_BITS + 1;
/** Smallest payload: room for prev, next and the back pointer of a free block. */
const MIN_SIZE = 16;
/** A remainder smaller than this stays in the block instead of being split off. */
const MIN_SPLIT = BLOCK_HEADER + MIN_SIZE;

/** Largest request any strategy considers: beyond it, size arithmetic in 32-bit words would wrap. */
const MAX_ALLOCATION = MAX_OFFSET - (1 << 20);

const W_FL = H_STRATEGY_WORDS;
const W_SL = W_FL + 1;
const W_HEADS = W_SL + FL_COUNT;
const CONTROL_WORDS = W_HEADS + FL_COUNT * SL_COUNT;

/**
 * The size class of a free block of `size` bytes, as `fl << SL_BITS | sl`: linear below SB_SIZE,
 * then 16 classes per power of two. Blocks are listed under the class of their exact size.
 */
function sizeClass(size: number): number {
  if (size < SB_SIZE) return size >>> 3;
  const fls = 31 - Math.clz32(size);
  return ((fls - SB_BITS + 1) << SL_BITS) | ((size >>> (fls - SL_BITS)) ^ SL_COUNT);
}

/**
 * `size` rounded up so that every block listed in the class of the result is at least `size`
 * bytes: the size findFree searches for (good fit, no list walk).
 */
function classCeiling(size: number): number {
  return size < SB_SIZE ? size : size + (1 << (31 - Math.clz32(size) - SL_BITS)) - 1;
}

function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * Whether x is a checked free block: inside the block region, 8-aligned, its tag checks out and
 * says free. What every free-list link must name before it is followed or written through.
 */
function isFree(m: Int32Array, x: number, start: number, limit: number, secret: number): boolean {
  const word = m[x >> 2] as number;
  return (
    (x & 7) === 0 &&
    x >= start &&
    x < limit &&
    (word & F_FREE) !== 0 &&
    m[(x + 4) >> 2] === (Math.imul((word & ~F_LEFT_FREE) ^ x ^ secret, TAG_MUL) | 1)
  );
}

/**
 * @internal TLSF's layout and its hot paths (malloc, free, realloc and the free lists); the cold
 * ones (walks, checks, rebuild) are in `TlsfHeap` (tlsf.ts). Use it through `Heap`.
 */
export abstract class TlsfCore extends HeapBase {
  /** @internal */
  static override readonly strategyId: number = STRATEGY_TLSF;
  /** @internal Block sizes follow `blockSize`, so a cached block of the same class fits exactly. */
  static override readonly cacheable: boolean = true;
  /** @internal */
  static override readonly controlBytes: number = alignUp(CONTROL_WORDS * 4, ALIGN);

  /**
   * @internal The WebAssembly engine (engine/tlsf.c) when this heap runs it (TlsfHeap sets it up,
   * see tlsf.ts): malloc, free and realloc below call it instead of the TypeScript hot paths, with
   * the same results.
   */
  protected engine: EngineExports | undefined = undefined;

  /**
   * Allocates `bytes` bytes (see `Heap.malloc`). TLSF's own copy of the entry points: with one
   * receiver class V8 keeps the call sites monomorphic and inlines the strategy into them, where
   * the shared base methods also see arena and pool heaps.
   *
   * @param bytes Size in bytes.
   * @param align Alignment (power of two).
   * @returns The pointer.
   * @throws {OutOfMemoryError} ERR_MEMKIT_OUT_OF_MEMORY when no block fits and the heap cannot grow.
   */
  override malloc(bytes: number, align: number = ALIGN): number {
    if (align === ALIGN && typeof bytes === "number" && bytes >>> 0 === bytes && bytes <= MAX_OFFSET) {
      // The engine checks the end word itself (0 when it moved), so it needs no ready() here.
      const engine = this.engine;
      if (engine !== undefined) {
        const ptr = engine.malloc(bytes);
        if (ptr !== 0) return ptr;
      } else if (this.direct) {
        this.ready();
        const ptr = this.allocate(bytes | 0, ALIGN);
        if (ptr !== 0) return ptr;
      }
    }
    // The general path reports the failure (with the heap's figures) or the bad input.
    return super.malloc(bytes, align);
  }

  /**
   * Like `malloc`, but 0 when memory is exhausted (see `Heap.tryMalloc`).
   *
   * @param bytes Size in bytes.
   * @param align Alignment (power of two).
   * @returns The pointer, or 0.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   */
  override tryMalloc(bytes: number, align: number = ALIGN): number {
    if (!this.direct || align !== ALIGN || typeof bytes !== "number" || bytes >>> 0 !== bytes || bytes > MAX_OFFSET) {
      return super.tryMalloc(bytes, align);
    }
    const engine = this.engine;
    if (engine !== undefined) {
      const ptr = engine.malloc(bytes);
      if (ptr !== 0) return ptr;
    }
    this.ready();
    return this.allocate(bytes | 0, ALIGN);
  }

  /**
   * Frees the block at `ptr` (see `Heap.free`).
   *
   * @param ptr A live pointer of this heap.
   * @throws {DoubleFreeError} ERR_MEMKIT_DOUBLE_FREE / {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER.
   */
  override free(ptr: number): void {
    if (!this.direct || typeof ptr !== "number" || ptr >>> 0 !== ptr || ptr > MAX_OFFSET) {
      super.free(ptr);
      return;
    }
    const engine = this.engine;
    // 2: the end word moved, so the engine left the call to the TypeScript path (which re-reads it).
    if (engine !== undefined && engine.free(ptr) !== 2) return;
    this.ready();
    // `| 0`: a pointer read back from a Float64Array (or computed) arrives as a double, and V8 then
    // did every offset computation of release in floating point (measured in its machine code).
    this.release(ptr | 0);
  }

  /**
   * Resizes the block at `ptr` (see `Heap.realloc`). The direct path calls the strategy without the
   * closure the general path passes to `locked()` (one allocation per call, and a call site shared
   * by every strategy and every locked operation, so V8 could not inline through it).
   *
   * @param ptr A live pointer, or 0 to allocate.
   * @param bytes The new size.
   * @returns The (maybe moved) pointer.
   * @throws {OutOfMemoryError} ERR_MEMKIT_OUT_OF_MEMORY when it cannot grow; `ptr` stays valid.
   */
  override realloc(ptr: number, bytes: number): number {
    if (!this.direct || ptr === 0 || typeof ptr !== "number" || ptr >>> 0 !== ptr || ptr > MAX_OFFSET) {
      return super.realloc(ptr, bytes);
    }
    if (typeof bytes !== "number" || bytes >>> 0 !== bytes || bytes > MAX_OFFSET) return super.realloc(ptr, bytes);
    const engine = this.engine;
    if (engine !== undefined) {
      // 0: the move needs growth, or the end word moved: the general path does it.
      const moved = engine.realloc(ptr, bytes);
      return moved !== 0 ? moved : super.realloc(ptr, bytes);
    }
    this.ready();
    // `| 0`: integer arithmetic for a pointer that arrives as a double (see free).
    const moved = this.reallocate(ptr | 0, bytes | 0);
    // The general path reports the failure with the heap's figures.
    return moved !== 0 ? moved : super.realloc(ptr, bytes);
  }

  /**
   * `fresh()`, TLSF's own copy: V8 keeps type feedback per function, and the shared one also sees
   * arena and pool heaps, which made its field loads polymorphic where it was inlined here.
   */
  private ready(): void {
    if (this.bytesView.length === 0 || this.m[this.h + H_END] !== this.endSeen) this.refresh();
  }

  /** Rounds a request to a block size: a multiple of 8, at least MIN_SIZE. */
  private static blockSize(bytes: number): number {
    return bytes <= MIN_SIZE ? MIN_SIZE : (bytes + 7) & -8;
  }

  // --- checked headers ---------------------------------------------------------------------

  /** @internal Writes the header of block b: `word` (size | flags) and its tag. */
  protected setHeader(b: number, word: number): void {
    const m = this.m;
    m[b >> 2] = word;
    m[(b + 4) >> 2] = blockTag(b, word & ~F_LEFT_FREE, this.secret);
  }

  /**
   * @internal The header word of block b, after checking that b lies in the block region and its
   * tag checks out (a live, cached or free block, or the sentinel). Throws HeapCorruptionError otherwise.
   */
  protected header(b: number): number {
    const m = this.m;
    const word = m[b >> 2] as number;
    const diff = (m[(b + 4) >> 2] as number) ^ blockTag(b, word & ~F_LEFT_FREE, this.secret);
    if ((b & 7) !== 0 || b < this.start || b > this.limit || (diff !== 0 && diff !== TAG_CACHED)) this.badHeader(b);
    return word;
  }

  /** @internal */
  protected badHeader(b: number): never {
    if ((b & 7) !== 0 || b < this.start || b > this.limit) {
      this.corrupt(b, "a block boundary lies outside the block region or is misaligned");
    }
    this.corrupt(b, "a block header's checksum does not match (overwritten?)");
  }

  /** @internal The header word of the free block b, checked (tag, F flag, size inside the region). */
  protected freeHeader(b: number): number {
    const word = this.header(b);
    const size = word & ~FLAGS;
    if ((word & F_FREE) === 0 || size < MIN_SIZE || b + BLOCK_HEADER + size > this.limit) {
      this.corrupt(b, "a free-list link or back pointer names a block that is not free");
    }
    return word;
  }

  /** @internal The end sentinel's offset (the block region's limit). */
  protected sentinel(): number {
    return this.limit;
  }

  /** Sets or clears the L flag of the checked block b (the tag does not cover it). */
  private setLeftFree(b: number, on: boolean): void {
    const word = this.header(b);
    this.m[b >> 2] = on ? word | F_LEFT_FREE : word & ~F_LEFT_FREE;
  }

  // --- free lists (encoded links) ----------------------------------------------------------

  /** @internal The word index of the free-list head of class fl/sl. */
  protected headIndex(fl: number, sl: number): number {
    return this.h + W_HEADS + fl * SL_COUNT + sl;
  }

  /** @internal The free-list link stored at `at`, decoded. */
  protected link(at: number): number {
    return (this.m[at >> 2] as number) ^ linkKey(at, this.secret);
  }

  /**
   * @internal Lists the free block b of `size` bytes at the head of its class. The old head must be
   * a checked free block (it gets a back link to b); checked before anything is written.
   */
  protected insertFree(b: number, size: number): void {
    const m = this.m;
    const secret = this.secret;
    const c = sizeClass(size);
    const fl = c >>> SL_BITS;
    const hi = this.h + W_HEADS + c;
    const head = m[hi] as number;
    if (head !== 0 && !isFree(m, head, this.start, this.limit, secret)) this.badLink(head, hi * 4);
    m[(b + 8) >> 2] = Math.imul((b + 8) ^ secret, LINK_MUL) ^ secret;
    m[(b + 12) >> 2] = head ^ (Math.imul((b + 12) ^ secret, LINK_MUL) ^ secret);
    if (head !== 0) m[(head + 8) >> 2] = b ^ (Math.imul((head + 8) ^ secret, LINK_MUL) ^ secret);
    m[hi] = b;
    m[this.h + W_FL] = (m[this.h + W_FL] as number) | (1 << fl);
    m[this.h + W_SL + fl] = (m[this.h + W_SL + fl] as number) | (1 << (c & (SL_COUNT - 1)));
  }

  /**
   * Unlinks the checked free block b of `size` bytes. Its neighbours in the list must be checked
   * free blocks that link back to b, and b must be its list's head exactly when it has no prev.
   * Everything is checked before anything is written.
   */
  private removeFree(b: number, size: number): void {
    const m = this.m;
    const secret = this.secret;
    const start = this.start;
    const limit = this.limit;
    const c = sizeClass(size);
    const prev = (m[(b + 8) >> 2] as number) ^ (Math.imul((b + 8) ^ secret, LINK_MUL) ^ secret);
    const next = (m[(b + 12) >> 2] as number) ^ (Math.imul((b + 12) ^ secret, LINK_MUL) ^ secret);
    const hi = this.h + W_HEADS + c;
    // State outside b's own first words must agree that b is free: its right neighbour's L flag and
    // its back pointer (b's last word). A stale copy of b's old free header and links written back
    // over a block that is live again rewrites neither, unless the copy reaches them (tiny blocks).
    const right = b + BLOCK_HEADER + size;
    if (right > limit || ((m[right >> 2] as number) & F_LEFT_FREE) === 0 || m[(right - 4) >> 2] !== b) {
      this.staleFree(b);
    }
    if (prev !== 0) {
      if (
        !isFree(m, prev, start, limit, secret) ||
        ((m[(prev + 12) >> 2] as number) ^ (Math.imul((prev + 12) ^ secret, LINK_MUL) ^ secret)) !== b
      ) {
        this.badNeighbour(prev, b + 8, prev + 12, "a free list's forward link is broken");
      }
    } else if (m[hi] !== b) {
      this.corrupt(b + 8, "a free block without a previous link is not its list's head");
    }
    if (next !== 0) {
      if (
        !isFree(m, next, start, limit, secret) ||
        ((m[(next + 8) >> 2] as number) ^ (Math.imul((next + 8) ^ secret, LINK_MUL) ^ secret)) !== b
      ) {
        this.badNeighbour(next, b + 12, next + 8, "a free list's back link is broken");
      }
      m[(next + 8) >> 2] = prev ^ (Math.imul((next + 8) ^ secret, LINK_MUL) ^ secret);
    }
    if (prev !== 0) {
      m[(prev + 12) >> 2] = next ^ (Math.imul((prev + 12) ^ secret, LINK_MUL) ^ secret);
      return;
    }
    m[hi] = next;
    if (next === 0) {
      const fl = c >>> SL_BITS;
      const slMap = (m[this.h + W_SL + fl] as number) & ~(1 << (c & (SL_COUNT - 1)));
      m[this.h + W_SL + fl] = slMap;
      if (slMap === 0) m[this.h + W_FL] = (m[this.h + W_FL] as number) & ~(1 << fl);
    }
  }

  /** @internal Throws for a block whose header says free while its neighbours say it is not (cold path). */
  protected staleFree(b: number): never {
    return this.corrupt(
      b,
      "a block's header says it is free, but its right neighbour and back pointer do not (a stale header written back over a live block?)",
    );
  }

  /** @internal Throws for a list neighbour that is not a checked free block linking back (cold path of removeFree). */
  protected badNeighbour(to: number, at: number, backAt: number, what: string): never {
    if ((to & 7) !== 0 || to < this.start || to >= this.limit) {
      this.corrupt(at, `a free-list link decodes to ${to}, outside the block region`);
    }
    this.freeHeader(to);
    return this.corrupt(backAt, what);
  }

  /** A checked free block of at least `size` bytes from the first non-empty class that surely fits, or 0. */
  private findFree(size: number): number {
    const m = this.m;
    const c = sizeClass(classCeiling(size));
    let fl = c >>> SL_BITS;
    const sl = c & (SL_COUNT - 1);
    if (fl >= FL_COUNT) return 0;
    let slMap = (m[this.h + W_SL + fl] as number) & (~0 << sl);
    if (slMap === 0) {
      const flMap = fl + 1 >= 32 ? 0 : (m[this.h + W_FL] as number) & (~0 << (fl + 1));
      if (flMap === 0) return 0;
      fl = ctz(flMap);
      if (fl >= FL_COUNT) this.corrupt((this.h + W_FL) * 4, "the first-level bitmap names a class that does not exist");
      slMap = m[this.h + W_SL + fl] as number;
    }
    const hi = this.headIndex(fl, ctz(slMap));
    const b = m[hi] as number;
    if (b === 0) this.corrupt(hi * 4, "a bitmap says a free list is non-empty but its head is empty");
    if (((this.freeHeader(b) & ~FLAGS) as number) < size) {
      this.corrupt(hi * 4, "a free list holds a block too small for its size class");
    }
    return b;
  }

  // --- block surgery -----------------------------------------------------------------------

  /**
   * Marks the range [b, b + 8 + size) free, merging it with free neighbours, and lists it.
   * `leftFree` says whether the block left of b is free. Invariant kept: no two adjacent free blocks.
   */
  private releaseRange(b: number, size: number, leftFree: boolean, checkedRight = -1): void {
    const m = this.m;
    let next = b + BLOCK_HEADER + size;
    // The caller may have checked the right neighbour's header already (free does, in blockOf).
    let nextWord = checkedRight === -1 ? this.header(next) : checkedRight;
    if ((nextWord & F_FREE) !== 0) {
      const rightSize = nextWord & ~FLAGS;
      if (rightSize < MIN_SIZE || next + BLOCK_HEADER + rightSize > this.sentinel()) {
        this.corrupt(next, `a free block has an impossible size ${rightSize}`);
      }
      this.removeFree(next, rightSize);
      // The absorbed header keeps a freed tag (a second free of it is a double free, and it can
      // never pass for a free block again); its links become interior bytes: keep never-used memory zero.
      m[(next + 4) >> 2] = blockTag(next, nextWord & ~F_LEFT_FREE, this.secret) ^ TAG_FREED;
      this.scrub(next, next + 16);
      size += BLOCK_HEADER + rightSize;
      next = b + BLOCK_HEADER + size;
      nextWord = this.header(next);
    }
    if (leftFree) {
      const left = m[(b - 4) >> 2] as number;
      const leftSize = this.freeHeader(left) & ~FLAGS;
      if (left + BLOCK_HEADER + leftSize !== b)
        this.corrupt(b - 4, "a back pointer does not name the block to the left");
      this.removeFree(left, leftSize);
      // b's header becomes interior: never a usable header again (release already marked it freed).
      m[(b + 4) >> 2] = blockTag(b, (m[b >> 2] as number) & ~F_LEFT_FREE, this.secret) ^ TAG_FREED;
      this.scrub(b - 4, b + 16);
      size += BLOCK_HEADER + leftSize;
      b = left;
    }
    this.setHeader(b, size | F_FREE);
    m[(next - 4) >> 2] = b;
    // The L flag is outside the tag: setting it needs no new checksum.
    m[next >> 2] = nextWord | F_LEFT_FREE;
    this.insertFree(b, size);
  }

  /**
   * Turns the unlisted free block b (`have` bytes, left neighbour live) into a live block of
   * `size` bytes with the L flag `left`, splitting off the rest when it is large enough to be a
   * block. The right neighbour of a free block is never free, so the rest needs no merging.
   */
  private carve(b: number, have: number, size: number, left: number): void {
    const rest = have - size;
    if (rest >= MIN_SPLIT) {
      this.setHeader(b, size | left);
      const r = b + BLOCK_HEADER + size;
      const restSize = rest - BLOCK_HEADER;
      this.setHeader(r, restSize | F_FREE);
      this.m[(r + BLOCK_HEADER + restSize - 4) >> 2] = r;
      this.insertFree(r, restSize);
    } else {
      this.setHeader(b, have | left);
      this.setLeftFree(b + BLOCK_HEADER + have, false);
    }
  }

  /**
   * Zeroes the words of [from, to) that lie above the clean mark: metadata that became interior
   * bytes of a free block there, so memory never handed out stays zero (zeroFresh relies on it).
   */
  private scrub(from: number, to: number): void {
    const m = this.m;
    const clean = m[this.h + H_CLEAN] as number;
    if (to <= clean || !this.zeroAlloc) return;
    for (let i = Math.max(from, clean); i < to; i += 4) m[i >> 2] = 0;
  }

  private markLive(b: number): number {
    const m = this.m;
    const h = this.h;
    const ptr = b + BLOCK_HEADER;
    const size = (m[b >> 2] as number) & ~FLAGS;
    const used = (m[h + H_USED] as number) + size;
    m[h + H_USED] = used;
    if (used > (m[h + H_PEAK] as number)) m[h + H_PEAK] = used;
    m[h + H_LIVE] = (m[h + H_LIVE] as number) + 1;
    const top = ptr + size;
    if (top > (m[h + H_HIGH_WATER] as number)) m[h + H_HIGH_WATER] = top;
    if (this.zeroAlloc) this.zeroFresh(ptr, top);
    return ptr;
  }

  // --- strategy primitives -----------------------------------------------------------------

  protected override format(start: number, end: number): void {
    const m = this.m;
    for (let i = this.h + W_FL; i < this.h + CONTROL_WORDS; i++) m[i] = 0;
    this.freeTail(start, end, false);
  }

  protected override extend(oldEnd: number, newEnd: number): void {
    // The old sentinel becomes the header of the new free space (merged left if that was free).
    const oldSentinel = oldEnd - BLOCK_HEADER;
    const word = this.header(oldSentinel);
    this.freeTail(oldSentinel, newEnd, (word & F_LEFT_FREE) !== 0);
  }

  /** Makes [from, end) one free block followed by a new end sentinel. */
  private freeTail(from: number, end: number, leftFree: boolean): void {
    const sentinel = end - BLOCK_HEADER;
    this.setHeader(sentinel, 0);
    const size = sentinel - from - BLOCK_HEADER;
    // Keep the L flag: removeFree checks that a free left neighbour's right neighbour says so.
    this.setHeader(from, leftFree ? size | F_LEFT_FREE : size);
    this.releaseRange(from, size, leftFree);
  }

  /**
   * The hot path of malloc, in one function on purpose: V8 inlines callees into the function it
   * optimizes only up to a cumulative bytecode budget, which the benchmark's (or a program's) own
   * loop already spends, so each helper of a split-up version became a real call. This function is
   * too large to be inlined into its caller and gets its own budget; its checks are the same as
   * findFree + removeFree + carve (the head of a list is a checked free block of that class whose
   * prev link is 0; its successor a checked free block that links back), written out once.
   * Aligned, oversized and growing requests go to allocateGeneral.
   */
  protected override allocate(bytes: number, align: number, keep = 0): number {
    if (align !== ALIGN || bytes > MAX_ALLOCATION) return this.allocateGeneral(bytes, align);
    const size = bytes <= MIN_SIZE ? MIN_SIZE : (bytes + 7) & -8;
    const m = this.m;
    const h = this.h;
    const c = sizeClass(classCeiling(size));
    let fl = c >>> SL_BITS;
    if (fl >= FL_COUNT) return this.allocateGeneral(bytes, align);
    let slMap = (m[h + W_SL + fl] as number) & (~0 << (c & (SL_COUNT - 1)));
    if (slMap === 0) {
      const flMap = fl + 1 >= FL_COUNT ? 0 : (m[h + W_FL] as number) & (~0 << (fl + 1));
      // Nothing fits: the general path grows the heap (or reports a damaged bitmap).
      if (flMap === 0) return this.allocateGeneral(bytes, align);
      fl = 31 - Math.clz32(flMap & -flMap);
      if (fl >= FL_COUNT) return this.allocateGeneral(bytes, align);
      slMap = m[h + W_SL + fl] as number;
    }
    const found = (fl << SL_BITS) | (31 - Math.clz32(slMap & -slMap));
    const hi = h + W_HEADS + found;
    const b = m[hi] as number;
    const secret = this.secret;
    const start = this.start;
    const limit = this.limit;
    const word = m[b >> 2] as number;
    const have = word & ~FLAGS;
    if (
      (b & 7) !== 0 ||
      b < start ||
      b >= limit ||
      m[(b + 4) >> 2] !== (Math.imul((word & ~F_LEFT_FREE) ^ b ^ secret, TAG_MUL) | 1) ||
      (word & (F_FREE | F_LEFT_FREE)) !== F_FREE ||
      b + BLOCK_HEADER + have > limit ||
      sizeClass(have) !== found ||
      have < size ||
      ((m[(b + 8) >> 2] as number) ^ (Math.imul((b + 8) ^ secret, LINK_MUL) ^ secret)) !== 0
    ) {
      this.badHead(hi, b);
    }
    const next = (m[(b + 12) >> 2] as number) ^ (Math.imul((b + 12) ^ secret, LINK_MUL) ^ secret);
    if (next !== 0) {
      const nextWord = m[next >> 2] as number;
      if (
        (next & 7) !== 0 ||
        next < start ||
        next >= limit ||
        m[(next + 4) >> 2] !== (Math.imul((nextWord & ~F_LEFT_FREE) ^ next ^ secret, TAG_MUL) | 1) ||
        (nextWord & F_FREE) === 0 ||
        ((m[(next + 8) >> 2] as number) ^ (Math.imul((next + 8) ^ secret, LINK_MUL) ^ secret)) !== b
      ) {
        this.badLink(next, b + 12);
      }
    }
    const rest = have - size;
    // Unsplit: the right neighbour (inside the region: checked above) loses its L flag. Check it first.
    const right = b + BLOCK_HEADER + have;
    const rightWord = m[right >> 2] as number;
    // As in removeFree: b's right neighbour and back pointer must agree that b is free.
    if ((rightWord & F_LEFT_FREE) === 0 || m[(right - 4) >> 2] !== b) this.staleFree(b);
    if (rest < MIN_SPLIT) {
      const diff =
        (m[(right + 4) >> 2] as number) ^ (Math.imul((rightWord & ~F_LEFT_FREE) ^ right ^ secret, TAG_MUL) | 1);
      if (diff !== 0 && diff !== TAG_CACHED) this.badHeader(right);
    }
    // Checked: unlink b (the head) from its list.
    m[hi] = next;
    if (next !== 0) m[(next + 8) >> 2] = Math.imul((next + 8) ^ secret, LINK_MUL) ^ secret;
    else {
      // slMap may be masked to the classes that fit: clear the bit in the whole word.
      const slLeft = (m[h + W_SL + fl] as number) & ~(1 << (found & (SL_COUNT - 1)));
      m[h + W_SL + fl] = slLeft;
      if (slLeft === 0) m[h + W_FL] = (m[h + W_FL] as number) & ~(1 << fl);
    }
    let used: number;
    if (rest >= MIN_SPLIT) {
      m[b >> 2] = size;
      m[(b + 4) >> 2] = Math.imul(size ^ b ^ secret, TAG_MUL) | 1;
      const r = b + BLOCK_HEADER + size;
      const restSize = rest - BLOCK_HEADER;
      m[r >> 2] = restSize | F_FREE;
      m[(r + 4) >> 2] = Math.imul((restSize | F_FREE) ^ r ^ secret, TAG_MUL) | 1;
      m[(right - 4) >> 2] = r;
      this.insertFree(r, restSize);
      used = size;
    } else {
      m[b >> 2] = have;
      m[(b + 4) >> 2] = Math.imul(have ^ b ^ secret, TAG_MUL) | 1;
      m[right >> 2] = rightWord & ~F_LEFT_FREE;
      used = have;
    }
    const ptr = b + BLOCK_HEADER;
    const top = ptr + used;
    const total = (m[h + H_USED] as number) + used;
    m[h + H_USED] = total;
    if (total > (m[h + H_PEAK] as number)) m[h + H_PEAK] = total;
    m[h + H_LIVE] = (m[h + H_LIVE] as number) + 1;
    if (top > (m[h + H_HIGH_WATER] as number)) m[h + H_HIGH_WATER] = top;
    // `keep`: the caller (relocation) overwrites the first `keep` bytes itself (a multiple of 8, > 8).
    if (this.zeroAlloc) this.zeroFresh(ptr + keep, top);
    return ptr;
  }

  /** @internal Throws for a list head that is not a checked free block of its class (cold path of allocate). */
  protected badHead(hi: number, b: number): never {
    if (b === 0) this.corrupt(hi * 4, "a bitmap says a free list is non-empty but its head is empty");
    const word = this.freeHeader(b);
    if (this.link(b + 8) !== 0) this.corrupt(b + 8, "a free list's head has a previous link");
    if ((word & F_LEFT_FREE) !== 0) this.corrupt(b, "a free block says its left neighbour is free");
    return this.corrupt(hi * 4, "a free list holds a block of another size class");
  }

  /** @internal Throws for a free-list link that does not name a checked free block linking back (cold path). */
  protected badLink(to: number, at: number): never {
    if ((to & 7) !== 0 || to < this.start || to >= this.limit) {
      this.corrupt(at, `a free-list link decodes to ${to}, outside the block region`);
    }
    this.freeHeader(to);
    return this.corrupt(to + 8, "a free list's back link is broken");
  }

  /** allocate for aligned, huge or growing requests: the general search, growth and alignment split. */
  private allocateGeneral(bytes: number, align: number): number {
    // Larger than any region can be (and past where 32-bit size arithmetic stays exact): no fit.
    if (bytes > MAX_ALLOCATION) return 0;
    const size = TlsfCore.blockSize(bytes);
    // Over-ask for aligned requests so an aligned start with room for a leading free block exists.
    const ask = align <= ALIGN ? size : size + align + MIN_SPLIT;
    let b = this.findFree(ask);
    if (b === 0) {
      // findFree searches from the class above `ask`, so the new memory must hold a block of that
      // rounded size (growing by `ask` alone would leave a block one class too small).
      if (!this.grow(classCeiling(ask) + BLOCK_HEADER)) return 0;
      b = this.findFree(ask);
      if (b === 0) return 0;
    }
    let have = (this.m[b >> 2] as number) & ~FLAGS;
    this.removeFree(b, have);
    if (align > ALIGN && ((b + BLOCK_HEADER) & (align - 1)) !== 0) {
      // Split off a leading free block so the payload lands on the alignment.
      const ptr = alignUp(b + BLOCK_HEADER + MIN_SPLIT, align);
      const lead = ptr - BLOCK_HEADER - b;
      const nb = ptr - BLOCK_HEADER;
      have -= lead;
      this.setHeader(b, (lead - BLOCK_HEADER) | F_FREE);
      this.m[(nb - 4) >> 2] = b;
      this.insertFree(b, lead - BLOCK_HEADER);
      b = nb;
      this.carve(b, have, size, F_LEFT_FREE);
    } else {
      this.carve(b, have, size, 0);
    }
    return this.markLive(b);
  }

  /**
   * Checks that `ptr` is a live block's payload (range, alignment, tag, size, and the right
   * neighbour's header) and returns its block start. Throws otherwise, without changing anything.
   */
  private blockOf(ptr: number): number {
    const m = this.m;
    const b = ptr - BLOCK_HEADER;
    const word = m[b >> 2] as number;
    const size = word & ~FLAGS;
    const diff = (m[(b + 4) >> 2] as number) ^ blockTag(b, word & ~F_LEFT_FREE, this.secret);
    if ((ptr & 7) !== 0 || b < this.start || b >= this.limit || diff !== 0 || (word & F_FREE) !== 0) this.notLive(ptr);
    const r = b + BLOCK_HEADER + size;
    if (size < MIN_SIZE || r > this.limit) this.corrupt(b, "a live block has an impossible size");
    const right = this.header(r);
    if ((right & F_LEFT_FREE) !== 0) this.corrupt(r, "the block after a live block says its left neighbour is free");
    return b;
  }

  /** @internal Throws the right error for a pointer that is not a live block's payload (cold path of blockOf). */
  protected notLive(ptr: number): never {
    const b = ptr - BLOCK_HEADER;
    if ((ptr & 7) !== 0) this.invalidPointer(ptr, "it is not 8-byte aligned");
    if (b < this.start || b >= this.limit) this.invalidPointer(ptr, "it is outside the heap");
    const word = this.m[b >> 2] as number;
    const diff = (this.m[(b + 4) >> 2] as number) ^ blockTag(b, word & ~F_LEFT_FREE, this.secret);
    if (diff === TAG_FREED || diff === TAG_CACHED || (diff === 0 && (word & F_FREE) !== 0)) this.doubleFree(ptr);
    return this.invalidPointer(ptr, "no block starts there");
  }

  /**
   * The hot path of free, in one function for the reason given at `allocate`: the checks of
   * blockOf (range, alignment, tag, live, size, the right neighbour's header) and of releaseRange
   * (a free right neighbour is unlinked safely, a back pointer must name a checked free block that
   * ends exactly here), written out once.
   */
  protected override release(pointer: number): void {
    // Integer arithmetic whatever the caller passed: V8 keeps one set of type feedback per function,
    // and a double pointer from any caller (the general free path, a thread cache's drain) made it
    // compile every offset computation here in floating point, for every heap.
    const ptr = pointer | 0;
    if (ptr !== pointer) this.notLive(pointer);
    const m = this.m;
    const secret = this.secret;
    const limit = this.limit;
    const b = ptr - BLOCK_HEADER;
    const word = m[b >> 2] as number;
    const stale = Math.imul((word & ~F_LEFT_FREE) ^ b ^ secret, TAG_MUL) | 1;
    if ((ptr & 7) !== 0 || b < this.start || b >= limit || m[(b + 4) >> 2] !== stale || (word & F_FREE) !== 0) {
      this.notLive(ptr);
    }
    let size = word & ~FLAGS;
    let next = b + BLOCK_HEADER + size;
    if (size < MIN_SIZE || next > limit) this.corrupt(b, "a live block has an impossible size");
    let nextWord = m[next >> 2] as number;
    const diff = (m[(next + 4) >> 2] as number) ^ (Math.imul((nextWord & ~F_LEFT_FREE) ^ next ^ secret, TAG_MUL) | 1);
    if ((diff !== 0 && diff !== TAG_CACHED) || (nextWord & F_LEFT_FREE) !== 0) this.badRight(next, nextWord);
    if (this.zeroFree) this.u8.fill(0, ptr, ptr + size);
    const h = this.h;
    m[h + H_USED] = (m[h + H_USED] as number) - size;
    m[h + H_LIVE] = (m[h + H_LIVE] as number) - 1;
    // The stale header keeps a freed tag even after merging, so a second free is recognised.
    m[(b + 4) >> 2] = stale ^ TAG_FREED;
    if ((nextWord & F_FREE) !== 0) {
      const rightSize = nextWord & ~FLAGS;
      if (diff !== 0 || rightSize < MIN_SIZE || next + BLOCK_HEADER + rightSize > limit) {
        this.corrupt(next, `a free block has an impossible size ${rightSize}`);
      }
      this.removeFree(next, rightSize);
      // The absorbed header keeps a freed tag (a second free of it is a double free, and it can
      // never pass for a free block again); its links become interior bytes: keep never-used memory zero.
      m[(next + 4) >> 2] = (Math.imul((nextWord & ~F_LEFT_FREE) ^ next ^ secret, TAG_MUL) | 1) ^ TAG_FREED;
      if (this.zeroAlloc) this.scrub(next, next + 16);
      size += BLOCK_HEADER + rightSize;
      next = b + BLOCK_HEADER + size;
      // Inside the region: the free block's size was checked above.
      nextWord = m[next >> 2] as number;
      const after =
        (m[(next + 4) >> 2] as number) ^ (Math.imul((nextWord & ~F_LEFT_FREE) ^ next ^ secret, TAG_MUL) | 1);
      if (after !== 0 && after !== TAG_CACHED) this.header(next);
    }
    let from = b;
    let stays = false;
    if ((word & F_LEFT_FREE) !== 0) {
      const left = m[(b - 4) >> 2] as number;
      const leftWord = m[left >> 2] as number;
      const leftSize = leftWord & ~FLAGS;
      if (
        (left & 7) !== 0 ||
        left < this.start ||
        m[(left + 4) >> 2] !== (Math.imul((leftWord & ~F_LEFT_FREE) ^ left ^ secret, TAG_MUL) | 1) ||
        (leftWord & F_FREE) === 0 ||
        leftSize < MIN_SIZE ||
        left + BLOCK_HEADER + leftSize !== b
      ) {
        this.badBackPointer(b, left);
      }
      // A left neighbour whose size class the merge does not change keeps its place in its list
      // (the block grows to the right: its start, and so its links, stay): no unlink and relink.
      // Its links are checked when it does leave the list. (engine/tlsf.c does the same.)
      stays = sizeClass(size + BLOCK_HEADER + leftSize) === sizeClass(leftSize);
      if (!stays) this.removeFree(left, leftSize);
      // b's header (already tagged freed) becomes interior bytes.
      if (this.zeroAlloc) this.scrub(b - 4, b + 16);
      size += BLOCK_HEADER + leftSize;
      from = left;
    }
    m[from >> 2] = size | F_FREE;
    m[(from + 4) >> 2] = Math.imul((size | F_FREE) ^ from ^ secret, TAG_MUL) | 1;
    m[(next - 4) >> 2] = from;
    // The L flag is outside the tag: setting it needs no new checksum.
    m[next >> 2] = nextWord | F_LEFT_FREE;
    if (!stays) this.insertFree(from, size);
  }

  /** @internal Throws for a back pointer that does not name a checked free block ending at b (cold path of release). */
  protected badBackPointer(b: number, left: number): never {
    this.freeHeader(left);
    return this.corrupt(b - 4, "a back pointer does not name the block to the left");
  }

  /** @internal Throws for a right neighbour whose header does not check out (cold path of release). */
  protected badRight(r: number, word: number): never {
    this.header(r);
    if ((word & F_LEFT_FREE) !== 0) this.corrupt(r, "the block after a live block says its left neighbour is free");
    return this.corrupt(r, "the block after a live block is not a live, cached or free block");
  }

  protected override usable(ptr: number): number {
    return (this.m[this.blockOf(ptr) >> 2] as number) & ~FLAGS;
  }

  /**
   * realloc: shrinks in place, grows in place over a free right neighbour, or moves. The checks of
   * blockOf (the block and its right neighbour) are written out here for the reason given at
   * `allocate`; a free right neighbour is checked before it is absorbed.
   */
  protected override reallocate(pointer: number, bytes: number): number {
    // Integer arithmetic whatever the caller passed (see release).
    const ptr = pointer | 0;
    if (ptr !== pointer) this.notLive(pointer);
    const m = this.m;
    const secret = this.secret;
    const limit = this.limit;
    const b = ptr - BLOCK_HEADER;
    const word = m[b >> 2] as number;
    if (
      (ptr & 7) !== 0 ||
      b < this.start ||
      b >= limit ||
      m[(b + 4) >> 2] !== (Math.imul((word & ~F_LEFT_FREE) ^ b ^ secret, TAG_MUL) | 1) ||
      (word & F_FREE) !== 0
    ) {
      this.notLive(ptr);
    }
    const have = word & ~FLAGS;
    const right = b + BLOCK_HEADER + have;
    if (have < MIN_SIZE || right > limit) this.corrupt(b, "a live block has an impossible size");
    const rightWord = m[right >> 2] as number;
    const diff =
      (m[(right + 4) >> 2] as number) ^ (Math.imul((rightWord & ~F_LEFT_FREE) ^ right ^ secret, TAG_MUL) | 1);
    if ((diff !== 0 && diff !== TAG_CACHED) || (rightWord & F_LEFT_FREE) !== 0) this.badRight(right, rightWord);
    const size = TlsfCore.blockSize(bytes);
    const left = word & F_LEFT_FREE;
    const h = this.h;
    if (size <= have) {
      if (have - size >= MIN_SPLIT) {
        // The tail leaves the block: wiped first when freed blocks must not keep their bytes.
        if (this.zeroFree) this.u8.fill(0, ptr + size, ptr + have);
        this.setHeader(b, size | left);
        const r = b + BLOCK_HEADER + size;
        this.setHeader(r, have - size - BLOCK_HEADER);
        this.releaseRange(r, have - size - BLOCK_HEADER, false, rightWord);
        m[h + H_USED] = (m[h + H_USED] as number) - (have - size);
      }
      return ptr;
    }
    const rightSize = rightWord & ~FLAGS;
    if ((rightWord & F_FREE) !== 0 && have + BLOCK_HEADER + rightSize >= size) {
      if (diff !== 0 || rightSize < MIN_SIZE || right + BLOCK_HEADER + rightSize > limit) {
        this.corrupt(right, `a free block has an impossible size ${rightSize}`);
      }
      this.removeFree(right, rightSize);
      // Its header becomes payload of a live block: it must never pass for a free block again
      // (a forged back pointer naming it would merge over this block).
      m[(right + 4) >> 2] = (Math.imul((rightWord & ~F_LEFT_FREE) ^ right ^ secret, TAG_MUL) | 1) ^ TAG_FREED;
      this.carve(b, have + BLOCK_HEADER + rightSize, size, left);
      const grown = (m[b >> 2] as number) & ~FLAGS;
      // The absorbed block's bytes: its header and links at `right`, its back pointer at the end.
      if (this.zeroAlloc) this.zeroFresh(right, ptr + grown);
      const used = (m[h + H_USED] as number) + grown - have;
      m[h + H_USED] = used;
      if (used > (m[h + H_PEAK] as number)) m[h + H_PEAK] = used;
      if (ptr + grown > (m[h + H_HIGH_WATER] as number)) m[h + H_HIGH_WATER] = ptr + grown;
      if (ptr + grown > (m[h + H_CLEAN] as number)) m[h + H_CLEAN] = ptr + grown;
      return ptr;
    }
    return this.move(ptr, have, bytes);
  }

  /** realloc's last resort: a new block, `have` bytes copied, the old block freed (0 when out of memory). */
  private move(ptr: number, have: number, bytes: number): number {
    // The copy overwrites the first `have` bytes of the new block, so only the rest is zeroed.
    const moved = this.allocate(bytes, ALIGN, have);
    if (moved === 0) return 0;
    if (have <= 256) {
      // Small blocks: word copies beat the call into copyWithin (a C++ builtin). Int32, not Float64:
      // a float copy may canonicalise NaN bit patterns. The blocks do not overlap (the old one is live).
      const m = this.m;
      const from = ptr >> 2;
      const to = moved >> 2;
      for (let i = 0; i < have >> 2; i++) m[to + i] = m[from + i] as number;
    } else this.bytesView.copyWithin(moved, ptr, ptr + have);
    this.release(ptr);
    return moved;
  }
}

/**
 * The constants and the size-class function the cold paths in tlsf.ts need. Exported as one
 * object, not as bindings: an exported binding is read through its module cell even inside this
 * module, which the hot paths above must not pay.
 */
export const TLSF_LAYOUT: {
  readonly F_FREE: number;
  readonly F_LEFT_FREE: number;
  readonly FLAGS: number;
  readonly SL_BITS: number;
  readonly SL_COUNT: number;
  readonly FL_COUNT: number;
  readonly MIN_SIZE: number;
  readonly MIN_SPLIT: number;
  readonly W_FL: number;
  readonly W_SL: number;
  readonly CONTROL_WORDS: number;
  readonly sizeClass: (size: number) => number;
} = {
  F_FREE: F_FREE,
  F_LEFT_FREE: F_LEFT_FREE,
  FLAGS: FLAGS,
  SL_BITS: SL_BITS,
  SL_COUNT: SL_COUNT,
  FL_COUNT: FL_COUNT,
  MIN_SIZE: MIN_SIZE,
  MIN_SPLIT: MIN_SPLIT,
  W_FL: W_FL,
  W_SL: W_SL,
  CONTROL_WORDS: CONTROL_WORDS,
  sizeClass: sizeClass,
};
