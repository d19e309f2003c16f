import { HeapBase } from "./base.js";
import { markFreed, markLive, tagState, verifyCounters } from "./block-tags.js";
import { UnsupportedError } from "./errors.js";
import {
  ALIGN,
  alignUp,
  BLOCK_HEADER,
  H_CLEAN,
  H_END,
  H_LIVE,
  H_PARAM,
  H_STATE0,
  H_STATE1,
  H_STRATEGY_WORDS,
  H_USED,
  linkKey,
  MAX_OFFSET,
  STRATEGY_POOL,
} from "./layout.js";
import { bitWord, groupMarked, mapBit, openGroup, PoolGeometry } from "./pool-map.js";
import { PoolSlots } from "./pool-slots.js";

/**
 * Pool of fixed-size slots: O(1) malloc and free for many objects of one size.
 *
 * ```
 *   start (group 0)                                   group 1                 fresh (H_STATE1)   end
 *   | map | [size][tag] slot | [size][tag] slot | ... | map | slot | slot | ... | never used ... |
 *     ^ occupancy map of the group's slots (see pool-map.ts): one bit per slot, 1 = live
 *                  ^ free slot: first payload word links the next free slot (encoded);
 *                    the list head is H_STATE0 (0 = empty)
 * ```
 * Every slot has the same stride (header + slot size rounded up to 8). The slots are cut into
 * groups of a power-of-two size (at least 64 slots each), each after a small header holding the
 * group's occupancy map; a group's last bytes that cannot hold a whole slot stay unused (under 2%).
 * Free slots are reused most-recent first; when none is free the pool takes the next never-used
 * slot (opening the next group when it reaches one), growing the memory when it can.
 *
 * Threat model: a buggy writer (an overflow, underflow or stale pointer of the caller, a stray write
 * of a WebAssembly or C module sharing the memory, old bytes written back), not an attacker who
 * reads the heap's secret. Invariant: whatever bytes are written anywhere in the heap's memory, no
 * call returns a pointer outside the block region or overlapping a live block, and no call runs
 * forever; each ends normally or throws HeapCorruptionError naming the offset and what was wrong.
 *
 * Hardening (see the README's threat model): a free slot's link is stored encoded (safe-linking
 * keyed by the heap's secret), so a use-after-free write into it decodes to garbage; the head and
 * every link are checked (a slot below `fresh`, header tag "freed") before a slot is handed out.
 * Headers and links are in-band: a stale copy of a freed slot's header and link, written back over
 * the slot once it is live again, checks out. So the occupancy map, out of the slots, is the
 * authority: a slot is handed out only when its map bit says free, and freed only when it says
 * live; a slot header that disagrees with its map bit is reported as corruption. What is left: a
 * writer that rewrites a slot and its group's map consistently (a replay of the whole group).
 */
export class PoolHeap extends HeapBase {
  /** @internal */
  static override readonly strategyId: number = STRATEGY_POOL;
  /** @internal */
  static override readonly controlBytes: number = alignUp(H_STRATEGY_WORDS * 4, ALIGN);
  /** @internal Blocks have exactly the slot size: debug mode checks the slack, no red zones. */
  static override readonly redZones: boolean = false;

  /** Usable bytes of every slot (from the header, whose constant words are checksummed). */
  readonly slotSize: number = alignUp(this.m[this.h + H_PARAM] as number, ALIGN);
  private readonly stride: number = BLOCK_HEADER + this.slotSize;
  /** Group size and map layout (see pool-map.ts). */
  private readonly geometry: PoolGeometry = new PoolGeometry(this.stride);
  /** The geometry's hot fields, copied here: the hot path reads them without a second object. */
  private readonly groupMask: number = this.geometry.groupMask;
  private readonly mapHeader: number = this.geometry.headerBytes;
  private readonly lastSlot: number = this.geometry.lastSlot;
  private readonly shift: number = this.geometry.shift;
  /** Bit number -> the offset (after the group header) of the slot with that bit, or -1: the boundary check. */
  private readonly slotAt: Int32Array = this.geometry.slotTable();
  /** The walks over all slots (check, recover). */
  private readonly slots: PoolSlots = new PoolSlots(this.geometry, this.start, this.secret, this.slotSize);
  /**
   * Word index and bit number of the map bit of the slot `locate` last found (the bit number, not
   * the mask: masks from 2^30 are no small integers to V8, and a field holding one costs a box).
   */
  private mapWord = 0;
  private mapShift = 0;
  /** The fresh mark as this object last confirmed it against its check word (-1: none yet). */
  private freshSeen = -1;

  /**
   * Pops a free slot without the general path's locking when the heap is plain (no debug guard,
   * no cache, not shared, not WebAssembly) and a freed slot is waiting; the slot is still checked.
   *
   * @param bytes Size in bytes (at most the slot size).
   * @param align Alignment (power of two).
   * @returns The pointer, or 0 when memory is exhausted.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad size.
   * @throws {UnsupportedError} ERR_MEMKIT_UNSUPPORTED for a request larger than a slot.
   */
  override tryMalloc(bytes: number, align: number = ALIGN): number {
    const b = this.m[this.h + H_STATE0] as number;
    if (
      !this.plain ||
      align !== ALIGN ||
      typeof bytes !== "number" ||
      bytes >>> 0 !== bytes ||
      bytes > this.slotSize ||
      b === 0 ||
      b >= this.bytesView.length
    ) {
      return super.tryMalloc(bytes, align);
    }
    return this.pop(b);
  }

  /**
   * Finds the map bit of the slot whose header is at b (into mapWord/mapShift); false when b is
   * not a slot header below `fresh` (outside the slots, inside a group header or its unused tail,
   * or off a slot boundary). Masks, a shift and one table load: no division on the hot path.
   */
  private locate(b: number, fresh: number): boolean {
    const off = b - this.start;
    const inGroup = off & this.groupMask;
    const r = inGroup - this.mapHeader;
    if (off < 0 || b >= fresh || r < 0) return false;
    const k = r >> this.shift;
    if (this.slotAt[k] !== r) return false;
    this.mapWord = bitWord(b - inGroup, k);
    this.mapShift = k & 31;
    return true;
  }

  /** Takes the checked free slot b off the list head and marks it live (zeroed: it was used before). */
  private pop(b: number): number {
    const m = this.m;
    const h = this.h;
    this.checkFreeSlot(b, (h + H_STATE0) * 4);
    m[this.mapWord] = (m[this.mapWord] as number) | (1 << this.mapShift);
    m[h + H_STATE0] = (m[(b + BLOCK_HEADER) >> 2] as number) ^ linkKey(b + BLOCK_HEADER, this.secret);
    return markLive(m, this.bytesView, h, this.secret, b, this.slotSize, this.zeroAlloc);
  }

  /**
   * The fresh mark, confirmed by its check word; re-checked only when the word moved since this
   * object last confirmed it (the hot path reads one word, as `fresh()` does for the end word).
   */
  private freshNow(): number {
    const fresh = this.m[this.h + H_STATE1] as number;
    if (fresh === this.freshSeen) return fresh;
    this.freshSeen = this.checkedMark(H_STATE1, "pool's fresh mark");
    return fresh;
  }

  /** Throws HeapCorruptionError unless b is a free slot below `fresh` (named by the word at `from`). */
  private checkFreeSlot(b: number, from: number): void {
    if (!this.locate(b, this.freshNow())) {
      this.corrupt(from, `a pool free-list link names ${b}, which is not a slot of this pool`);
    }
    if (tagState(this.m, this.secret, b + BLOCK_HEADER) !== "free" || this.m[b >> 2] !== this.slotSize) {
      this.corrupt(b, "a pool free-list link names a slot that is not free (use after free?)");
    }
    if (((this.m[this.mapWord] as number) & (1 << this.mapShift)) !== 0) {
      this.corrupt(
        b,
        `a pool free-list link names slot ${b}, whose header says free but whose occupancy map bit says live (a stale copy of an old header written back?)`,
      );
    }
  }

  protected override format(start: number): void {
    this.m[this.h + H_STATE0] = 0;
    this.setMark(H_STATE1, start);
  }

  protected override extend(): void {}

  /**
   * Where the next never-used slot's header goes when `fresh` is f: f itself, or past the header
   * of the group f opens (or of the next group, when f is past a group's last slot); -1 when f is
   * none of these. The second value, the group to open (or -1), is left in `openAt`.
   */
  private freshSlot(f: number): number {
    const off = f - this.start;
    const inGroup = off & this.groupMask;
    const r = inGroup - this.mapHeader;
    this.openAt = -1;
    if (off < 0) return -1;
    if (inGroup === 0 || r === this.lastSlot + this.stride) {
      this.openAt = inGroup === 0 ? f : f - inGroup + this.groupMask + 1;
      return this.openAt + this.mapHeader;
    }
    return r >= this.stride && r <= this.lastSlot && r % this.stride === 0 ? f : -1;
  }

  /** Set by `freshSlot`: the group header the next fresh slot needs written first, or -1. */
  private openAt = -1;

  /** The fresh mark, checked against its check word, the region and the group layout. */
  private checkFresh(): number {
    const fresh = this.checkedMark(H_STATE1, "pool's fresh mark");
    if (
      this.slotSize < ALIGN ||
      this.slotSize > 1 << 24 ||
      fresh > (this.m[this.h + H_END] as number) ||
      this.freshSlot(fresh) < 0
    ) {
      this.corrupt((this.h + H_STATE1) * 4, `the pool's fresh mark ${fresh} is not a slot boundary inside the pool`);
    }
    return fresh;
  }

  /** @internal */
  override checkControl(): void {
    const fresh = this.checkFresh();
    // The first group's marks: memory of another layout (or a header overwritten) shows here.
    if (fresh > this.start && !groupMarked(this.m, this.start, this.secret)) {
      this.corrupt(this.start, "the pool's first occupancy map header was overwritten");
    }
    const head = this.m[this.h + H_STATE0] as number;
    if (head !== 0) this.checkFreeSlot(head, (this.h + H_STATE0) * 4);
  }

  protected override allocate(bytes: number, align: number): number {
    const slot = this.slotSize;
    if (bytes > slot || align > ALIGN) {
      throw new UnsupportedError(
        `This pool's slots hold ${slot} bytes aligned to ${ALIGN}; a request of ${bytes} bytes aligned to ${align} does not fit. Use a "tlsf" heap for mixed sizes.`,
      );
    }
    const head = this.m[this.h + H_STATE0] as number;
    if (head !== 0) return this.pop(head);
    return this.takeFresh();
  }

  /** Hands out the next never-used slot, opening its group's map first when it starts one. */
  private takeFresh(): number {
    const h = this.h;
    const f = this.checkedMark(H_STATE1, "pool's fresh mark");
    const b = this.freshSlot(f);
    const open = this.openAt;
    if (b < 0 || b > MAX_OFFSET - this.stride) {
      this.corrupt((h + H_STATE1) * 4, `the pool's fresh mark ${f} is not a slot boundary`);
    }
    const next = b + this.stride;
    const end = this.m[h + H_END] as number;
    if (next > end && !this.grow(next - end)) return 0;
    const m = this.m;
    if (open >= 0) openGroup(m, this.geometry, open, this.secret);
    this.setMark(H_STATE1, next);
    this.freshSeen = next;
    this.locate(b, next);
    m[this.mapWord] = (m[this.mapWord] as number) | (1 << this.mapShift);
    // A never-used slot is zero already unless it lies below the clean mark (reused memory).
    const clean = m[h + H_CLEAN] as number;
    const zero = this.zeroAlloc && b + BLOCK_HEADER < clean;
    const ptr = markLive(m, this.bytesView, h, this.secret, b, this.slotSize, zero);
    if (next > clean) m[h + H_CLEAN] = next;
    return ptr;
  }

  /** Checks that ptr is a live slot (header and map bit agree); locates its map bit. */
  private checkPointer(ptr: number): void {
    const m = this.m;
    const fresh = this.freshNow();
    if (ptr < this.start + BLOCK_HEADER || ptr >= fresh || (ptr & 7) !== 0) {
      this.invalidPointer(ptr, "it is outside the pool's slots");
    }
    if (!this.locate(ptr - BLOCK_HEADER, fresh)) this.invalidPointer(ptr, "it is not the start of a slot");
    const state = tagState(m, this.secret, ptr);
    const live = ((m[this.mapWord] as number) & (1 << this.mapShift)) !== 0;
    if (state === "free" && !live) this.doubleFree(ptr);
    if (state === "free") {
      this.corrupt(
        ptr - BLOCK_HEADER,
        "the slot's header says freed but its occupancy map bit says live (a stale copy of an old header written back?)",
      );
    }
    if (state !== "live") this.invalidPointer(ptr, "the slot's header was overwritten");
    if (!live) {
      this.corrupt(
        ptr - BLOCK_HEADER,
        "the slot's header says live but its occupancy map bit says free (a stale header written back over a freed slot?)",
      );
    }
    if (m[(ptr - BLOCK_HEADER) >> 2] !== this.slotSize)
      this.corrupt(ptr - BLOCK_HEADER, "a slot's size word was overwritten");
  }

  protected override release(ptr: number): void {
    this.checkPointer(ptr);
    const m = this.m;
    const h = this.h;
    m[this.mapWord] = (m[this.mapWord] as number) & ~(1 << this.mapShift);
    markFreed(m, this.bytesView, h, this.secret, ptr, this.zeroFree);
    m[ptr >> 2] = (m[h + H_STATE0] as number) ^ linkKey(ptr, this.secret);
    m[h + H_STATE0] = ptr - BLOCK_HEADER;
  }

  protected override usable(ptr: number): number {
    this.checkPointer(ptr);
    return this.slotSize;
  }

  protected override reallocate(ptr: number, bytes: number): number {
    this.checkPointer(ptr);
    if (bytes > this.slotSize) {
      throw new UnsupportedError(`Cannot grow a pool slot of ${this.slotSize} bytes to ${bytes}; use a "tlsf" heap.`);
    }
    return ptr;
  }

  /** Visits each slot below `fresh` (header and map bit checked to agree); the untouched tail is one free block. */
  protected override walk(visit: (ptr: number, size: number, free: boolean) => void): void {
    const m = this.m;
    const slot = this.slotSize;
    const fresh = this.checkFresh();
    this.slots.each(fresh, (g, r, b) => {
      const state = tagState(m, this.secret, b + BLOCK_HEADER);
      if (state === "foreign" || m[b >> 2] !== slot) this.corrupt(b, "a slot header was overwritten");
      if ((state === "free") === (mapBit(m, this.geometry, g, r) === 1)) {
        this.corrupt(b, `the slot's header says ${state} but its occupancy map bit disagrees`);
      }
      visit(b + BLOCK_HEADER, slot, state === "free");
    });
    const end = m[this.h + H_END] as number;
    if (end - fresh > BLOCK_HEADER) visit(fresh + BLOCK_HEADER, end - fresh - BLOCK_HEADER, true);
  }

  protected override verify(): void {
    const m = this.m;
    const h = this.h;
    this.checkControl();
    const fresh = this.checkFresh();
    let used = 0;
    let live = 0;
    let free = 0;
    // Invariant: every slot below `fresh` is live or free, its size word intact, its map bit agreeing.
    this.walk((ptr, size, isFree) => {
      if (ptr > fresh) return;
      if (isFree) free++;
      else {
        used += size;
        live++;
      }
    });
    this.slots.checkMaps(m, fresh);
    // Invariant: the free list holds exactly the free slots, each once.
    let listed = 0;
    for (let b = m[h + H_STATE0] as number; b !== 0; ) {
      this.checkFreeSlot(b, b);
      if (++listed > free) this.corrupt(b, "the free list has a cycle");
      b = (m[(b + BLOCK_HEADER) >> 2] as number) ^ linkKey(b + BLOCK_HEADER, this.secret);
    }
    if (listed !== free) this.corrupt(this.start, `${free - listed} free slot(s) missing from the free list`);
    verifyCounters(m, h, used, live);
  }

  /**
   * @internal Keeps every slot that its header or its map bit says is live (a live slot whose
   * header was overwritten or replayed keeps its place); the rest form a new free list, and maps
   * are rewritten from what was kept (see PoolSlots.rebuild).
   */
  protected override rebuild(): { offset: number; bytes: number }[] {
    const m = this.m;
    const h = this.h;
    const { head, kept, lost } = this.slots.rebuild(m, this.checkFresh());
    m[h + H_STATE0] = head;
    m[h + H_USED] = kept * this.slotSize;
    m[h + H_LIVE] = kept;
    return lost;
  }
}
