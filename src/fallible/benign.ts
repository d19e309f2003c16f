/**
 * Benign-failure regions, after SQLite's `sqlite3BeginBenignMalloc`/`sqlite3EndBenignMalloc`:
 * code that handles its own allocation failure silently (a cache that just does not grow) marks
 * the region, and a sweep then expects success there instead of an `AllocError`, and does not
 * count a failure absorbed there as a swallowed one.
 *
 * Regions are synchronous, like SQLite's: the depth is one counter per realm, so an `await`
 * inside a region would let unrelated code run as if benign. Wrap the synchronous part that
 * allocates, not a whole async function.
 */

import { InvalidArgumentError } from "../internal/errors.js";

let depth = 0;

/**
 * Runs `fn` as a benign-failure region: allocation failures inside it are handled by the code
 * itself (it degrades, e.g. a cache that does not grow) and must not surface.
 *
 * @param fn Synchronous code whose allocation failures are benign.
 * @returns What `fn` returns.
 * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT when `fn` is not a function.
 * @example
 * ```ts
 * const slot = benign(() => cache.tryInsert(key, value)); // a full cache just does not grow
 * ```
 */
export function benign<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new InvalidArgumentError(`benign(fn) needs a function, got ${typeof fn}`);
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

/** A benign-failure region open until disposed (`using _ = benignRegion()`). */
export interface BenignRegion {
  /** Closes the region (idempotent). */
  end(): void;
  /** Same as `end`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * Opens a benign-failure region that lasts until disposed: `using _ = benignRegion();` (SQLite's
 * begin/end pair, made exception-safe by `using`).
 *
 * @returns The region; `end()` or leaving the `using` scope closes it.
 * @example
 * ```ts
 * {
 *   using _ = benignRegion();
 *   if (lookaside.tryGrow() === 0) stats.lookasideMisses++;
 * }
 * ```
 */
export function benignRegion(): BenignRegion {
  depth++;
  let open = true;
  const end = () => {
    if (!open) return;
    open = false;
    depth--;
  };
  return { end, [Symbol.dispose]: end };
}

/**
 * Whether the code running now is inside a benign-failure region.
 * @returns True inside `benign(...)` or an open `benignRegion()`.
 * @example
 * ```ts
 * if (isBenign()) console.log("an allocation failure here is handled silently");
 * ```
 */
export function isBenign(): boolean {
  return depth > 0;
}
