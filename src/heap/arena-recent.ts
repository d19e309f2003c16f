/**
 * The arena's out-of-band memory of recent history, in its control words, which a stray or stale
 * write into the blocks does not rewrite.
 *
 * - The newest two blocks (header offsets, newest first; -1 when not known): `free` rolls the top
 *   back, and `realloc` resizes in place, only for the newest. A block header cannot tell this by
 *   itself: a stale copy of an older, larger block's header written back at the same address checks
 *   out and claims to end at the top while live blocks lie inside it. Two words, not a deeper stack,
 *   because every allocation writes them: after more than two frees in a row in LIFO order the
 *   newest is not known, and the header alone vouches for it (the memory-for-speed trade an arena
 *   makes; measured: a stack of 8 cost 3-5 ns per allocation and free on the LIFO benchmark).
 * - The marks `mark()` handed out that are still block boundaries: `reset(mark)` trusts a mark found
 *   here; any other mark is checked by a walk from the start. The bytes at a mark cannot tell this:
 *   a block grown in place over an old mark, or laid over it after a rollback, may hold a stale
 *   header exactly there.
 *
 * ```
 *   word: w       w+1          w+2 .. w+9         w+10
 *         | newest | the one before | 8 marks (ring) | state: next slot (bits 0-2) | count (bits 3-6) |
 * ```
 * Marks are increasing from the bottom of the stack to its top (each was the top when pushed). Only
 * the last RECENT are kept: older marks are checked by the walk.
 */

/** Words holding the newest two blocks' headers. */
export const NEWEST_WORDS: number = 2;

/** Forgets the newest blocks (after a reset or recover): the next rollback trusts the header alone. */
export function forgetNewest(m: Int32Array, w: number): void {
  m[w] = -1;
  m[w + 1] = -1;
}

/** Entries the stack of marks keeps. */
export const RECENT: number = 8;
/** Words of one stack: the entries and the state word. */
export const RECENT_WORDS: number = RECENT + 1;

function count(m: Int32Array, w: number): number {
  const n = (m[w + RECENT] as number) >>> 3;
  return n > RECENT ? RECENT : n;
}

/** The entry on top of the stack at word w, or -1 when it is empty. */
export function recentTop(m: Int32Array, w: number): number {
  const state = m[w + RECENT] as number;
  if (state >>> 3 === 0) return -1;
  return m[w + ((state - 1) & 7)] as number;
}

/** Pushes `value` (dropping the oldest entry when full); the hot path of every arena allocation. */
export function recentPush(m: Int32Array, w: number, value: number): void {
  const state = m[w + RECENT] as number;
  const next = state & 7;
  m[w + next] = value;
  const n = (state >>> 3) + 1;
  m[w + RECENT] = ((next + 1) & 7) | ((n > RECENT ? RECENT : n) << 3);
}

/** Pops the top entry (the caller checked it with `recentTop`). */
export function recentPop(m: Int32Array, w: number): void {
  const state = m[w + RECENT] as number;
  const n = state >>> 3;
  if (n === 0) return;
  // The entry stays in its slot: with the count one lower, nothing reads it again before a push overwrites it.
  m[w + RECENT] = ((state - 1) & 7) | ((n > RECENT ? RECENT - 1 : n - 1) << 3);
}

/** Pops every entry above `limit` (the top moved down to it, or a block now spans past it). */
export function recentDropAbove(m: Int32Array, w: number, limit: number): void {
  for (let top = recentTop(m, w); top !== -1 && top > limit; top = recentTop(m, w)) recentPop(m, w);
}

/** Whether `value` is one of the stack's entries. */
export function recentHas(m: Int32Array, w: number, value: number): boolean {
  const n = count(m, w);
  const state = m[w + RECENT] as number;
  for (let i = 1; i <= n; i++) if (m[w + ((state - i) & 7)] === value) return true;
  return false;
}

/** Empties the stack at word w. */
export function recentClear(m: Int32Array, w: number): void {
  for (let i = 0; i < RECENT; i++) m[w + i] = -1;
  m[w + RECENT] = 0;
}
