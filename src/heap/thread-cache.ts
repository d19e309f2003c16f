import { BLOCK_HEADER, blockTag, TAG_CACHED } from "./layout.js";

/** Largest block size the cache keeps, and how many blocks of each size it holds at most. */
export const CACHE_MAX_SIZE = 1024;
const CACHE_DEPTH = 16;
const F_LEFT_FREE = 2;

/** What the cache needs from its heap: the current views (they change when memory grows). */
export interface CacheHost {
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
}

/**
 * A per-thread cache of freed small TLSF blocks (tcache, as in glibc): per size class (8-byte
 * steps up to CACHE_MAX_SIZE), blocks this heap object freed, reused by its next mallocs without
 * taking the lock, so threads sharing a heap do not queue on the lock for every small block.
 *
 * A cached block stays live for the heap's bookkeeping; its tag says "cached" (see `TAG_CACHED`),
 * so a second free, by this thread or another, is still caught. Only the owner changes a cached
 * block's tag, and the checksum leaves out the L flag other threads may flip meanwhile.
 */
export class ThreadCache {
  readonly #stacks: number[][] = Array.from({ length: (CACHE_MAX_SIZE >> 3) + 1 }, () => []);
  readonly #secret: number;
  readonly #start: number;
  readonly #zeroAlloc: boolean;
  readonly #zeroFree: boolean;

  /** The heap's constants: its secret, first block, and zero modes. */
  constructor(secret: number, start: number, zeroAlloc: boolean, zeroFree: boolean) {
    this.#secret = secret;
    this.#start = start;
    this.#zeroAlloc = zeroAlloc;
    this.#zeroFree = zeroFree;
  }

  /** A cached block of exactly this size class, re-tagged live (and zeroed when asked), or 0. */
  take(host: CacheHost, bytes: number): number {
    const size = bytes <= 16 ? 16 : (bytes + 7) & -8;
    const ptr = this.#stacks[size >> 3]?.pop();
    if (ptr === undefined) return 0;
    const m = host.words;
    const b = ptr - BLOCK_HEADER;
    m[(b + 4) >> 2] = blockTag(b, (m[b >> 2] as number) & ~F_LEFT_FREE, this.#secret);
    if (this.#zeroAlloc) host.bytes.fill(0, ptr, ptr + size);
    return ptr;
  }

  /**
   * Keeps a freed small block when its header checks out as live and there is room; anything
   * doubtful goes the locked way, where the strategy reports the right error. Reading a live
   * block's size without the lock is safe: only its owner changes it.
   */
  keep(host: CacheHost, ptr: number): boolean {
    const m = host.words;
    if ((ptr & 7) !== 0 || ptr < this.#start + 8 || ptr >= host.bytes.length) return false;
    const b = ptr - BLOCK_HEADER;
    const word = (m[b >> 2] as number) & ~F_LEFT_FREE;
    const tag = blockTag(b, word, this.#secret);
    // word & 1: a free block (F flag) is never cached.
    if (m[(b + 4) >> 2] !== tag || (word & 1) !== 0) return false;
    const size = word & ~7;
    if (size > CACHE_MAX_SIZE || size < 16) return false;
    const stack = this.#stacks[size >> 3];
    if (stack === undefined || stack.length >= CACHE_DEPTH) return false;
    m[(b + 4) >> 2] = tag ^ TAG_CACHED;
    if (this.#zeroFree) host.bytes.fill(0, ptr, ptr + size);
    stack.push(ptr);
    return true;
  }

  /** Hands every cached block back: re-tagged live, then passed to `release` (under the lock). */
  drain(host: CacheHost, release: (ptr: number) => void): void {
    for (const stack of this.#stacks) {
      for (let ptr = stack.pop(); ptr !== undefined; ptr = stack.pop()) {
        const m = host.words;
        const b = ptr - BLOCK_HEADER;
        const tag = blockTag(b, (m[b >> 2] as number) & ~F_LEFT_FREE, this.#secret);
        // Re-tag only a block still cached; a stray write meanwhile is the strategy's to report.
        if (m[(b + 4) >> 2] === (tag ^ TAG_CACHED)) m[(b + 4) >> 2] = tag;
        release(ptr);
      }
    }
  }

  /** Forgets every cached block (their memory belongs to an erased timeline or a rebuilt heap). */
  clear(): void {
    for (const stack of this.#stacks) stack.length = 0;
  }
}
