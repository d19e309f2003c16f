import { HeapCorruptionError } from "./errors.js";
import { Heap } from "./heap.js";
import {
  ALIGN,
  alignUp,
  BLOCK_HEADER,
  cachedTag,
  freeTag,
  H_END,
  H_HIGH_WATER,
  H_LIVE,
  H_PEAK,
  H_STRATEGY_WORDS,
  H_USED,
  liveTag,
  STRATEGY_TLSF,
} from "./layout.js";

/**
 * TLSF: two-level segregated fit. O(1) malloc and free, immediate coalescing, good fit.
 *
 * Block layout (every block starts 8-aligned, so every payload is 8-aligned):
 * ```
 *   live block                          free block
 *   +------------------+ b              +------------------+ b
 *   | size | L | F=0   |  word 0        | size | L=0 | F=1 |  (a free block never has a free left neighbour)
 *   +------------------+                +------------------+
 *   | tag = live(ptr)  |  word 1        | tag = free(ptr)  |
 *   +------------------+ ptr = b + 8    +------------------+ b + 8
 *   | payload          |                | prev free | next |  links of its size-class list
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

/** The TLSF strategy: the default general-purpose heap. See the layout diagram above. */
export class TlsfHeap extends Heap {
  static override readonly strategyId: number = STRATEGY_TLSF;
  /** @internal Block sizes follow `blockSize`, so a cached block of the same class fits exactly. */
  static override readonly cacheable: boolean = true;
  static override readonly controlBytes: number = alignUp(CONTROL_WORDS * 4, ALIGN);

  /** Rounds a request to a block size: a multiple of 8, at least MIN_SIZE. */
  private static blockSize(bytes: number): number {
    return bytes <= MIN_SIZE ? MIN_SIZE : (bytes + 7) & -8;
  }

  // --- free lists --------------------------------------------------------------------------

  private headIndex(fl: number, sl: number): number {
    return this.h + W_HEADS + fl * SL_COUNT + sl;
  }

  private insertFree(b: number, size: number): void {
    const m = this.m;
    const c = sizeClass(size);
    const fl = c >>> SL_BITS;
    const sl = c & (SL_COUNT - 1);
    const hi = this.headIndex(fl, sl);
    const head = m[hi] as number;
    m[(b + 8) >> 2] = 0;
    m[(b + 12) >> 2] = head;
    if (head !== 0) m[(head + 8) >> 2] = b;
    m[hi] = b;
    m[this.h + W_FL] = (m[this.h + W_FL] as number) | (1 << fl);
    m[this.h + W_SL + fl] = (m[this.h + W_SL + fl] as number) | (1 << sl);
  }

  private removeFree(b: number, size: number): void {
    const m = this.m;
    const c = sizeClass(size);
    const fl = c >>> SL_BITS;
    const sl = c & (SL_COUNT - 1);
    const prev = m[(b + 8) >> 2] as number;
    const next = m[(b + 12) >> 2] as number;
    if (prev !== 0) m[(prev + 12) >> 2] = next;
    if (next !== 0) m[(next + 8) >> 2] = prev;
    const hi = this.headIndex(fl, sl);
    if (m[hi] === b) {
      m[hi] = next;
      if (next === 0) {
        const slMap = (m[this.h + W_SL + fl] as number) & ~(1 << sl);
        m[this.h + W_SL + fl] = slMap;
        if (slMap === 0) m[this.h + W_FL] = (m[this.h + W_FL] as number) & ~(1 << fl);
      }
    }
  }

  /** A free block of at least `size` bytes from the first non-empty class that surely fits, or 0. */
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
      slMap = m[this.h + W_SL + fl] as number;
    }
    return m[this.headIndex(fl, ctz(slMap))] as number;
  }

  // --- block surgery -----------------------------------------------------------------------

  /**
   * Marks the range [b, b + 8 + size) free, merging it with free neighbours, and lists it.
   * `leftFree` says whether the block left of b is free. Invariant kept: no two adjacent free blocks.
   */
  private releaseRange(b: number, size: number, leftFree: boolean): void {
    const m = this.m;
    const secret = this.secret;
    const right = b + BLOCK_HEADER + size;
    const rightHeader = m[right >> 2] as number;
    if ((rightHeader & F_FREE) !== 0) {
      const rightSize = rightHeader & ~FLAGS;
      this.removeFree(right, rightSize);
      size += BLOCK_HEADER + rightSize;
    }
    if (leftFree) {
      const left = m[(b - 4) >> 2] as number;
      const leftSize = (m[left >> 2] as number) & ~FLAGS;
      this.removeFree(left, leftSize);
      size += BLOCK_HEADER + leftSize;
      b = left;
    }
    m[b >> 2] = size | F_FREE;
    m[(b + 4) >> 2] = freeTag(b + BLOCK_HEADER, secret);
    m[(b + BLOCK_HEADER + size - 4) >> 2] = b;
    const next = b + BLOCK_HEADER + size;
    m[next >> 2] = (m[next >> 2] as number) | F_LEFT_FREE;
    this.insertFree(b, size);
  }

  /**
   * Turns the unlisted block b (whose header says `have` bytes, left neighbour live) into a
   * live block of `size` bytes, splitting off the rest when it is large enough to be a block.
   */
  private carve(b: number, have: number, size: number): void {
    const m = this.m;
    const rest = have - size;
    if (rest >= MIN_SPLIT) {
      m[b >> 2] = size;
      const r = b + BLOCK_HEADER + size;
      // r's right neighbour is live or the sentinel; releaseRange merges if it is free.
      const rightOfR = r + rest;
      m[rightOfR >> 2] = (m[rightOfR >> 2] as number) & ~F_LEFT_FREE;
      m[r >> 2] = rest - BLOCK_HEADER;
      this.releaseRange(r, rest - BLOCK_HEADER, false);
    } else {
      m[b >> 2] = have;
      const next = b + BLOCK_HEADER + have;
      m[next >> 2] = (m[next >> 2] as number) & ~F_LEFT_FREE;
    }
  }

  private markLive(b: number): number {
    const m = this.m;
    const h = this.h;
    const ptr = b + BLOCK_HEADER;
    m[(b + 4) >> 2] = liveTag(ptr, this.secret);
    const size = (m[b >> 2] as number) & ~FLAGS;
    const used = (m[h + H_USED] as number) + size;
    m[h + H_USED] = used;
    if (used > (m[h + H_PEAK] as number)) m[h + H_PEAK] = used;
    m[h + H_LIVE] = (m[h + H_LIVE] as number) + 1;
    const top = ptr + size;
    if (top > (m[h + H_HIGH_WATER] as number)) m[h + H_HIGH_WATER] = top;
    if (this.zeroAlloc) this.u8.fill(0, ptr, top);
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
    this.freeTail(oldSentinel, newEnd, ((this.m[oldSentinel >> 2] as number) & F_LEFT_FREE) !== 0);
  }

  /** Makes [from, end) one free block followed by a new end sentinel. */
  private freeTail(from: number, end: number, leftFree: boolean): void {
    const m = this.m;
    const sentinel = end - BLOCK_HEADER;
    m[sentinel >> 2] = 0;
    m[(sentinel + 4) >> 2] = 0;
    const size = sentinel - from - BLOCK_HEADER;
    m[from >> 2] = size;
    this.releaseRange(from, size, leftFree);
  }

  protected override allocate(bytes: number, align: number): number {
    const size = TlsfHeap.blockSize(bytes);
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
    const m = this.m;
    let have = (m[b >> 2] as number) & ~FLAGS;
    this.removeFree(b, have);
    if (align > ALIGN && ((b + BLOCK_HEADER) & (align - 1)) !== 0) {
      // Split off a leading free block so the payload lands on the alignment.
      const ptr = alignUp(b + BLOCK_HEADER + MIN_SPLIT, align);
      const lead = ptr - BLOCK_HEADER - b;
      const nb = ptr - BLOCK_HEADER;
      have -= lead;
      m[b >> 2] = lead - BLOCK_HEADER;
      m[nb >> 2] = have;
      this.releaseRange(b, lead - BLOCK_HEADER, false);
      m[nb >> 2] = have | F_LEFT_FREE;
      b = nb;
      this.carve(b, have, size);
      m[b >> 2] = (m[b >> 2] as number) | F_LEFT_FREE;
    } else {
      this.carve(b, have, size);
    }
    return this.markLive(b);
  }

  /** Checks that `ptr` is a live block's payload; returns its block start. Throws otherwise. */
  private blockOf(ptr: number): number {
    const m = this.m;
    const b = ptr - BLOCK_HEADER;
    if ((ptr & 7) !== 0 || b < this.start || ptr >= (m[this.h + H_END] as number)) {
      this.invalidPointer(ptr, (ptr & 7) !== 0 ? "it is not 8-byte aligned" : "it is outside the heap");
    }
    const tag = m[(b + 4) >> 2] as number;
    const secret = this.secret;
    const header = m[b >> 2] as number;
    if (tag === liveTag(ptr, secret) && (header & F_FREE) === 0 && (header & ~FLAGS) >= MIN_SIZE) return b;
    if (tag === freeTag(ptr, secret) || tag === cachedTag(ptr, secret)) this.doubleFree(ptr);
    return this.invalidPointer(ptr, "no block starts there");
  }

  protected override release(ptr: number): void {
    const b = this.blockOf(ptr);
    const m = this.m;
    const header = m[b >> 2] as number;
    const size = header & ~FLAGS;
    if (this.zeroFree) this.u8.fill(0, ptr, ptr + size);
    const h = this.h;
    m[h + H_USED] = (m[h + H_USED] as number) - size;
    m[h + H_LIVE] = (m[h + H_LIVE] as number) - 1;
    // The stale header keeps the free tag even after merging, so a second free is recognised.
    m[(b + 4) >> 2] = freeTag(ptr, this.secret);
    this.releaseRange(b, size, (header & F_LEFT_FREE) !== 0);
  }

  protected override usable(ptr: number): number {
    return (this.m[this.blockOf(ptr) >> 2] as number) & ~FLAGS;
  }

  protected override reallocate(ptr: number, bytes: number): number {
    const m = this.m;
    const b = this.blockOf(ptr);
    const header = m[b >> 2] as number;
    const have = header & ~FLAGS;
    const size = TlsfHeap.blockSize(bytes);
    const h = this.h;
    if (size <= have) {
      if (have - size >= MIN_SPLIT) {
        m[b >> 2] = size | (header & F_LEFT_FREE);
        const r = b + BLOCK_HEADER + size;
        m[r >> 2] = have - size - BLOCK_HEADER;
        this.releaseRange(r, have - size - BLOCK_HEADER, false);
        m[h + H_USED] = (m[h + H_USED] as number) - (have - size);
      }
      return ptr;
    }
    const right = b + BLOCK_HEADER + have;
    const rightHeader = m[right >> 2] as number;
    const rightSize = rightHeader & ~FLAGS;
    if ((rightHeader & F_FREE) !== 0 && have + BLOCK_HEADER + rightSize >= size) {
      this.removeFree(right, rightSize);
      const total = have + BLOCK_HEADER + rightSize;
      this.carve(b, total, size);
      m[b >> 2] = (m[b >> 2] as number) | (header & F_LEFT_FREE);
      const grown = (m[b >> 2] as number) & ~FLAGS;
      if (this.zeroAlloc) this.u8.fill(0, ptr + have, ptr + grown);
      const used = (m[h + H_USED] as number) + grown - have;
      m[h + H_USED] = used;
      if (used > (m[h + H_PEAK] as number)) m[h + H_PEAK] = used;
      if (ptr + grown > (m[h + H_HIGH_WATER] as number)) m[h + H_HIGH_WATER] = ptr + grown;
      return ptr;
    }
    return this.relocate(ptr, have, bytes);
  }

  protected override walk(visit: (ptr: number, size: number, free: boolean) => void): void {
    const m = this.m;
    const end = (m[this.h + H_END] as number) - BLOCK_HEADER;
    for (let b = this.start; b < end; ) {
      const header = m[b >> 2] as number;
      const size = header & ~FLAGS;
      visit(b + BLOCK_HEADER, size, (header & F_FREE) !== 0);
      b += BLOCK_HEADER + size;
    }
  }

  protected override verify(): void {
    const m = this.m;
    const h = this.h;
    const end = m[h + H_END] as number;
    const sentinel = end - BLOCK_HEADER;
    const secret = this.secret;
    let b = this.start;
    let leftFree = false;
    let freeCount = 0;
    let used = 0;
    let live = 0;
    while (b < sentinel) {
      const header = m[b >> 2] as number;
      const size = header & ~FLAGS;
      const free = (header & F_FREE) !== 0;
      // Invariant: sizes are multiples of 8, at least MIN_SIZE, and the block ends inside the region.
      if (size < MIN_SIZE || (size & 7) !== 0 || b + BLOCK_HEADER + size > sentinel) {
        throw new HeapCorruptionError(b, `block header holds an impossible size ${size}`);
      }
      // Invariant: the L flag says exactly whether the left neighbour is free.
      if (((header & F_LEFT_FREE) !== 0) !== leftFree) {
        throw new HeapCorruptionError(b, "the left-free flag disagrees with the block to the left");
      }
      if (free) {
        // Invariant: coalescing is immediate, so no two free blocks are adjacent.
        if (leftFree) throw new HeapCorruptionError(b, "two adjacent free blocks were not merged");
        if (m[(b + BLOCK_HEADER + size - 4) >> 2] !== b) {
          throw new HeapCorruptionError(b + BLOCK_HEADER + size - 4, "a free block's back pointer is wrong");
        }
        freeCount++;
      } else {
        const tag = m[(b + 4) >> 2];
        // Live, or held in some thread's local cache of a shared heap (still live to the heap).
        if (tag !== liveTag(b + BLOCK_HEADER, secret) && tag !== cachedTag(b + BLOCK_HEADER, secret)) {
          throw new HeapCorruptionError(b + 4, "a live block's tag was overwritten (write before its start?)");
        }
        used += size;
        live++;
      }
      leftFree = free;
      b += BLOCK_HEADER + size;
    }
    if (b !== sentinel) throw new HeapCorruptionError(b, "blocks do not end at the sentinel");
    if (((m[sentinel >> 2] as number) & ~F_LEFT_FREE) !== 0) {
      throw new HeapCorruptionError(sentinel, "the end sentinel was overwritten");
    }
    this.verifyLists(freeCount);
    if (used !== m[h + H_USED] || live !== m[h + H_LIVE]) {
      throw new HeapCorruptionError(h * 4, `counters say ${m[h + H_LIVE]} live blocks, the walk found ${live}`);
    }
  }

  private verifyLists(expectedFree: number): void {
    const m = this.m;
    const h = this.h;
    const end = m[h + H_END] as number;
    let listed = 0;
    for (let fl = 0; fl < FL_COUNT; fl++) {
      const slMap = m[h + W_SL + fl] as number;
      // Invariant: a first-level bit is set exactly when its second-level map is non-zero.
      if ((((m[h + W_FL] as number) >>> fl) & 1) !== (slMap !== 0 ? 1 : 0)) {
        throw new HeapCorruptionError((h + W_FL) * 4, `first-level bitmap bit ${fl} is wrong`);
      }
      for (let sl = 0; sl < SL_COUNT; sl++) {
        let b = m[this.headIndex(fl, sl)] as number;
        // Invariant: a second-level bit is set exactly when its list is non-empty.
        if (((slMap >>> sl) & 1) !== (b !== 0 ? 1 : 0)) {
          throw new HeapCorruptionError((h + W_SL + fl) * 4, `second-level bitmap bit ${fl}/${sl} is wrong`);
        }
        let prev = 0;
        while (b !== 0) {
          if (b < this.start || b >= end || ((m[b >> 2] as number) & F_FREE) === 0) {
            throw new HeapCorruptionError(b, "a free list links to something that is not a free block");
          }
          if (m[(b + 8) >> 2] !== prev) throw new HeapCorruptionError(b + 8, "a free list's back link is wrong");
          if (++listed > expectedFree) throw new HeapCorruptionError(b, "free lists hold more blocks than the heap");
          prev = b;
          b = m[(b + 12) >> 2] as number;
        }
      }
    }
    if (listed !== expectedFree) {
      throw new HeapCorruptionError(
        this.start,
        `${expectedFree - listed} free block(s) are missing from the free lists`,
      );
    }
  }
}

Heap.registerStrategy(TlsfHeap);
