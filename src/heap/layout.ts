/**
 * The heap header: every heap keeps its whole state inside its own memory, so `Heap.attach` can
 * reopen it from the bytes alone (another worker, a WebAssembly module, a snapshot).
 *
 * ```
 *  base (8-aligned)                                        base + HEADER_BYTES
 *  |                                                       |
 *  v  word: 0      1       2         3      4     5        v
 *  +-------+-------+---------+------+------+-----+ ... +---------------------------+
 *  | MAGIC |VERSION|STRATEGY | FLAGS| LOCK | END | ... | strategy control words    | blocks ...
 *  +-------+-------+---------+------+------+-----+ ... +---------------------------+
 * ```
 *
 * All values are 32-bit words (Int32Array) at the word indices below, relative to `base >> 2`.
 * Offsets stored in the header are absolute byte offsets in the buffer, so a pointer means the
 * same thing to JavaScript and to WebAssembly sharing the memory.
 */

/** "MEMK" in ASCII. */
export const MAGIC = 0x4b4d454d;
/** Bumped whenever any word below, or any strategy's block layout, changes meaning. */
export const LAYOUT_VERSION = 1;

export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_STRATEGY = 2;
export const H_FLAGS = 3;
/** Spin/wait lock for shared heaps: 0 free, 1 held, 2 held with waiters. */
export const H_LOCK = 4;
/** Absolute byte offset one past the managed region (the region grows by moving it). */
export const H_END = 5;
/** Absolute byte offset the region may never pass (the heap's maxBytes). */
export const H_MAX_END = 6;
/** Byte offset where the managed region starts (the header's own base). */
export const H_BASE = 7;
/** Usable bytes of live blocks. */
export const H_USED = 8;
/** Highest H_USED ever seen. */
export const H_PEAK = 9;
/** Number of live blocks. */
export const H_LIVE = 10;
/** Per-heap random value mixed into block tags, so stale or foreign pointers rarely pass. */
export const H_SECRET = 11;
/** Strategy parameter (pool: slot size; others: unused). */
export const H_PARAM = 12;
/** Strategy state word (arena: bump top; pool: free-list head). */
export const H_STATE0 = 13;
/** Strategy state word (pool: untouched-region start). */
export const H_STATE1 = 14;
/** Highest byte offset any block has reached (high-water mark). */
export const H_HIGH_WATER = 15;
/** First word a strategy may use for its own control structures. */
export const H_STRATEGY_WORDS = 16;

export const STRATEGY_TLSF = 1;
export const STRATEGY_ARENA = 2;
export const STRATEGY_POOL = 3;

export const FLAG_ZERO_ALLOC = 1;
export const FLAG_ZERO_FREE = 2;
export const FLAG_SHARED = 4;

/** Every block starts and every payload is aligned to this many bytes. */
export const ALIGN = 8;
/** Block header: [size | flags][tag], see each strategy's diagram. */
export const BLOCK_HEADER = 8;
/** Largest byte offset a heap may reach: offsets are kept in signed 32-bit words. */
export const MAX_OFFSET = 0x7fff_fff8;

/** Tag of a live block whose payload starts at `ptr`: never 0 or the free tag. */
export function liveTag(ptr: number, secret: number): number {
  return (Math.imul(ptr, 0x9e3779b1) ^ secret) | 1;
}

/** Tag written over a block when it is freed: lets a second free be told from a foreign pointer. */
export function freeTag(ptr: number, secret: number): number {
  return liveTag(ptr, secret) ^ 0x5a5a5a5a;
}

/**
 * Tag of a block a thread holds in its local cache of a shared heap: live for the heap's
 * bookkeeping, freed for the program (so a second free is still caught).
 */
export function cachedTag(ptr: number, secret: number): number {
  return liveTag(ptr, secret) ^ 0x3c3c3c3c;
}

/** Rounds `n` up to a multiple of the power of two `align`. */
export function alignUp(n: number, align: number): number {
  return (n + align - 1) & -align;
}
