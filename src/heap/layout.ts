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
/**
 * Bumped whenever any word below, or any strategy's block layout, changes meaning.
 * 2: checksummed block tags, encoded free-list links, lock owner/lease words, header checksum.
 * 3: pool occupancy maps and slot groups; arena control words (newest blocks, recent marks).
 */
export const LAYOUT_VERSION = 3;

export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_STRATEGY = 2;
export const H_FLAGS = 3;
/** Lock for shared heaps: 0 free, else (owner id << 1) | waiters bit; LOCK_POISONED after a holder died. */
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
/** Source of lock owner ids: each heap object over shared memory takes the next one. */
export const H_NEXT_OWNER = 16;
/** Bumped by every lock acquisition: a waiter that sees it move knows the holder is alive. */
export const H_LOCK_SEQ = 17;
/** Owner id of a lock holder that was declared dead (the heap is poisoned until `recover()`). */
export const H_DEAD_OWNER = 18;
/** Checksum of the words that never change (magic ... secret, param), checked by attach and check(). */
export const H_HEADER_SUM = 19;
/** Byte offset below which blocks may hold old bytes; above it memory was never handed out (zero). */
export const H_CLEAN = 20;
/** Keyed checksum of the strategy's moving mark (arena: top; pool: fresh), see `wordCheck`. */
export const H_STATE_CHECK = 21;
/** Keyed checksum of H_END. */
export const H_END_CHECK = 22;
/** First word a strategy may use for its own control structures. */
export const H_STRATEGY_WORDS = 24;
/** The lock word of a poisoned heap (a holder died inside an operation). */
export const LOCK_POISONED = -1;

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

/**
 * Block tags (Scudo's checksummed chunk header, keyed by the per-heap secret): every block header
 * is `[size | flags][tag]`, where `tag = blockTag(b, size word without the L flag, secret) ^ state`.
 * A stray write to either word, or a header copied to another address, no longer checks out, and
 * the tag cannot be forged without the secret. The L flag (left neighbour is free) is left out of
 * the checksum because other threads flip it under the lock while the owner re-tags its own block
 * without the lock (thread cache); a wrong L flag is caught by validating the back pointer.
 */
export function blockTag(b: number, word: number, secret: number): number {
  // One multiply by an odd constant is a bijection: a header with another size, flag or address
  // (a copy) gets another tag, and a random tag word matches with odd 1 in 2^31. Enough against a
  // buggy writer; it is not a MAC against someone who reads the secret (see the threat model).
  return Math.imul(word ^ b ^ secret, TAG_MUL) | 1;
}

/**
 * The odd multipliers of `blockTag` and `linkKey`. TLSF's hot paths write both formulas out
 * inline with these (V8 stopped inlining the calls once its inlining budget was spent); any
 * difference between the two would fail every heap test at the first checked header.
 */
export const TAG_MUL = 0x9e3779b1;
export const LINK_MUL = 0x27d4eb2f;

/**
 * Check word of a header word that bounds allocation (the end, the arena top, the pool's fresh
 * mark): range checks alone cannot tell a top lowered by a stray write into the live blocks from
 * a real one, a keyed checksum can.
 */
export function wordCheck(index: number, value: number, secret: number): number {
  return blockTag(index, value, secret ^ 0x2f6b1e35);
}

/** Tag state: a live block (the checksum itself). */
export const TAG_LIVE = 0;
/** Tag state: a freed block's stale header (lets a second free be told from a foreign pointer). */
export const TAG_FREED = 0x5a5a5a5a;
/**
 * Tag state: a block a thread holds in its local cache of a shared heap: live for the heap's
 * bookkeeping, freed for the program (so a second free is still caught).
 */
export const TAG_CACHED = 0x3c3c3c3c;

/**
 * Key for encoding a link stored at byte offset `at` (glibc safe-linking, mimalloc's encoded free
 * lists): a stray write into a free block's links decodes to a random value that fails the range
 * and header checks, never to a usable pointer.
 */
export function linkKey(at: number, secret: number): number {
  return Math.imul(at ^ secret, LINK_MUL) ^ secret;
}

/** Checksum of a header's constant words, keyed by its secret. */
export function headerSum(words: Int32Array, h: number): number {
  let x = 0x6d656d6b;
  for (const i of [H_MAGIC, H_VERSION, H_STRATEGY, H_FLAGS, H_BASE, H_MAX_END, H_SECRET, H_PARAM]) {
    x = blockTag(i, (words[h + i] as number) ^ x, 0x1b873593);
  }
  return x;
}

/** Rounds `n` up to a multiple of the power of two `align`. */
export function alignUp(n: number, align: number): number {
  return (n + align - 1) & -align;
}
