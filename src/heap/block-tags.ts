import { HeapCorruptionError } from "./errors.js";
import { BLOCK_HEADER, blockTag, H_HIGH_WATER, H_LIVE, H_PEAK, H_USED, TAG_CACHED, TAG_FREED } from "./layout.js";

/**
 * Block bookkeeping shared by the simple strategies (arena, pool), whose blocks carry the same
 * two-word header as TLSF's: [usable size][tag], the tag a checksum of the header keyed by the
 * heap's secret (see `blockTag`). Each function names the invariant it keeps.
 */

/** Writes a live header for the block at `b` and counts it; zeroes it when asked. Returns ptr. */
export function markLive(
  m: Int32Array,
  u8: Uint8Array,
  h: number,
  secret: number,
  b: number,
  size: number,
  zero: boolean,
): number {
  const ptr = b + BLOCK_HEADER;
  m[b >> 2] = size;
  m[(b + 4) >> 2] = blockTag(b, size, secret);
  const used = (m[h + H_USED] as number) + size;
  m[h + H_USED] = used;
  if (used > (m[h + H_PEAK] as number)) m[h + H_PEAK] = used;
  m[h + H_LIVE] = (m[h + H_LIVE] as number) + 1;
  if (ptr + size > (m[h + H_HIGH_WATER] as number)) m[h + H_HIGH_WATER] = ptr + size;
  if (zero) u8.fill(0, ptr, ptr + size);
  return ptr;
}

/** Marks the live block at `ptr` (already validated) freed and uncounts it; wipes it when asked. */
export function markFreed(
  m: Int32Array,
  u8: Uint8Array,
  h: number,
  secret: number,
  ptr: number,
  wipe: boolean,
): number {
  const b = ptr - BLOCK_HEADER;
  const size = m[b >> 2] as number;
  m[(b + 4) >> 2] = blockTag(b, size, secret) ^ TAG_FREED;
  m[h + H_USED] = (m[h + H_USED] as number) - size;
  m[h + H_LIVE] = (m[h + H_LIVE] as number) - 1;
  if (wipe) u8.fill(0, ptr, ptr + size);
  return size;
}

/** What the header before `ptr` says: "live", "free", "cached" or "foreign" (its checksum fails). */
export function tagState(m: Int32Array, secret: number, ptr: number): "live" | "free" | "cached" | "foreign" {
  const b = ptr - BLOCK_HEADER;
  const diff = (m[(b + 4) >> 2] as number) ^ blockTag(b, m[b >> 2] as number, secret);
  if (diff === 0) return "live";
  if (diff === TAG_FREED) return "free";
  if (diff === TAG_CACHED) return "cached";
  return "foreign";
}

/** Checks that walked totals match the header's counters (the invariant every strategy keeps). */
export function verifyCounters(m: Int32Array, h: number, used: number, live: number): void {
  if (used !== m[h + H_USED] || live !== m[h + H_LIVE]) {
    throw new HeapCorruptionError(
      h * 4,
      `counters say ${m[h + H_LIVE]} live blocks and ${m[h + H_USED]} bytes used, the walk found ${live} and ${used}`,
    );
  }
}
