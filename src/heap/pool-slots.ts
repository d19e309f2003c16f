import { tagState } from "./block-tags.js";
import { HeapCorruptionError } from "./errors.js";
import { BLOCK_HEADER, blockTag, linkKey, TAG_FREED } from "./layout.js";
import { groupMarked, mapBit, openGroup, type PoolGeometry } from "./pool-map.js";

/**
 * The pool's slots taken as a whole, group by group: the walks behind `check()` and `recover()`.
 * The hot path (pop and free of one slot) stays in pool.ts; everything here is O(slots).
 */
export class PoolSlots {
  readonly #geometry: PoolGeometry;
  readonly #start: number;
  readonly #secret: number;
  readonly #slotSize: number;

  /**
   * @param geometry The pool's group layout.
   * @param start Byte offset of the first group.
   * @param secret The heap's secret (tags, links and marks are keyed by it).
   * @param slotSize Usable bytes of a slot.
   */
  constructor(geometry: PoolGeometry, start: number, secret: number, slotSize: number) {
    this.#geometry = geometry;
    this.#start = start;
    this.#secret = secret;
    this.#slotSize = slotSize;
  }

  /**
   * Calls `each(g, r, b)` for every slot below `fresh` (g its group, r its offset after the group's
   * header, b its header). Bounded: the caller checked `fresh` lies in the region.
   */
  each(fresh: number, each: (g: number, r: number, b: number) => void): void {
    const { groupBytes, headerBytes, lastSlot, stride } = this.#geometry;
    for (let g = this.#start; g < fresh; g += groupBytes) {
      for (let r = 0; r <= lastSlot && g + headerBytes + r < fresh; r += stride) each(g, r, g + headerBytes + r);
    }
  }

  /** The bit words the map of the group at g should hold: a bit for each slot below fresh that `live` says is live. */
  private bits(g: number, fresh: number, live: (b: number) => boolean): number[] {
    const { bitWords, headerBytes, lastSlot, stride, shift } = this.#geometry;
    const bits = new Array<number>(bitWords).fill(0);
    for (let r = 0; r <= lastSlot && g + headerBytes + r < fresh; r += stride) {
      const k = r >> shift;
      if (live(g + headerBytes + r)) bits[k >> 5] = (bits[k >> 5] as number) | (1 << (k & 31));
    }
    return bits;
  }

  /** Invariant: every group header keeps its marks, and its map has bits for exactly the live slots. */
  checkMaps(m: Int32Array, fresh: number): void {
    const secret = this.#secret;
    for (let g = this.#start; g < fresh; g += this.#geometry.groupBytes) {
      if (!groupMarked(m, g, secret)) {
        throw new HeapCorruptionError(
          g,
          "an occupancy map header's marks were overwritten (an overflow past the slot before it?)",
        );
      }
      const bits = this.bits(g, fresh, (b) => tagState(m, secret, b + BLOCK_HEADER) !== "free");
      bits.forEach((word, i) => {
        if (m[(g >> 2) + 2 + i] !== word) {
          throw new HeapCorruptionError(g + 8 + 4 * i, "an occupancy map's bits disagree with its slots' headers");
        }
      });
    }
  }

  /**
   * Rebuilds slots, free list and maps below `fresh`: a slot its header or its map bit says is live
   * is kept (header rewritten live: a live slot whose header was overwritten or replayed keeps its
   * place); the rest are linked into a new free list, lowest first. Returns the new list head, the
   * number of slots kept, and the slots neither said live nor had a readable freed header (lost).
   */
  rebuild(m: Int32Array, fresh: number): { head: number; kept: number; lost: { offset: number; bytes: number }[] } {
    const kept = new Set<number>();
    this.each(fresh, (g, r, b) => {
      if (this.keep(m, b, mapBit(m, this.#geometry, g, r) === 1)) kept.add(b);
    });
    const free: number[] = [];
    this.each(fresh, (_g, _r, b) => {
      if (!kept.has(b)) free.push(b);
    });
    const lost: { offset: number; bytes: number }[] = [];
    const { secret, slotSize } = { secret: this.#secret, slotSize: this.#slotSize };
    let head = 0;
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i] as number;
      if (tagState(m, secret, b + BLOCK_HEADER) !== "free" || m[b >> 2] !== slotSize) {
        lost.push({ offset: b, bytes: this.#geometry.stride });
      }
      m[b >> 2] = slotSize;
      m[(b + 4) >> 2] = blockTag(b, slotSize, secret) ^ TAG_FREED;
      m[(b + BLOCK_HEADER) >> 2] = head ^ linkKey(b + BLOCK_HEADER, secret);
      head = b;
    }
    for (let g = this.#start; g < fresh; g += this.#geometry.groupBytes) {
      const bits = this.bits(g, fresh, (b) => kept.has(b));
      openGroup(m, this.#geometry, g, secret);
      bits.forEach((word, i) => {
        m[(g >> 2) + 2 + i] = word;
      });
    }
    return { head, kept: kept.size, lost: lost.reverse() };
  }

  /** rebuild's rule for one slot: live when its header or its map bit says so (header rewritten live). */
  private keep(m: Int32Array, b: number, mapLive: boolean): boolean {
    const state = tagState(m, this.#secret, b + BLOCK_HEADER);
    const headerLive = (state === "live" || state === "cached") && m[b >> 2] === this.#slotSize;
    if (!headerLive && !mapLive) return false;
    if (!headerLive) {
      m[b >> 2] = this.#slotSize;
      m[(b + 4) >> 2] = blockTag(b, this.#slotSize, this.#secret);
    }
    return true;
  }
}
