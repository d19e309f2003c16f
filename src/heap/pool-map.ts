import { blockTag } from "./layout.js";

/**
 * The pool's occupancy maps: which slots are live, kept outside the slots themselves.
 *
 * In-band checksums cannot tell a slot header written back from an old copy (a stale header and
 * its encoded link, replayed by a module that cached them or by a use-after-free write of old
 * contents) from the real one: the copy was real once, and its checksum is keyed by the slot's own
 * address. The map is the state such a replay does not rewrite: the slots are cut into groups, each
 * starting with a small header holding one bit per slot (1 = live), and every pop and every free
 * checks the bit against the slot's header before trusting either.
 *
 * ```
 *   group g (groupBytes, a power of two, >= 64 slots)
 *   | mark | mark | bit words ... | slot 0 | slot 1 | ... | slot n-1 | (rest < one slot, unused) |
 *   '----------- header ----------'
 *   slot r bytes after the header: bit (r >> shift) of the group's map, shift = floor(log2(stride))
 * ```
 * Groups are a power of two in size, and a slot's bit is numbered by its offset shifted right, so
 * a pointer finds its group and bit with masks and shifts; with the one modulo that checks it is on
 * a slot boundary, pop and free cost what they cost without the map. The two mark words (a keyed
 * marker of the group's address) come first, so the commonest bug, a short overflow past the
 * previous group's last slot, lands on them rather than on the bits; `check()` reports it.
 */
export class PoolGeometry {
  /** Bytes from one slot header to the next. */
  readonly stride: number;
  /** Bytes of a group (a power of two, at most 2^30). */
  readonly groupBytes: number;
  /** groupBytes - 1: `offset & groupMask` is the offset inside the group. */
  readonly groupMask: number;
  /** A slot's bit number is (its offset after the header) >> shift. */
  readonly shift: number;
  /** Words of bits in each group's header. */
  readonly bitWords: number;
  /** Bytes of each group's header: two mark words, then the bit words (a multiple of 8). */
  readonly headerBytes: number;
  /** Slots in each group. */
  readonly slots: number;
  /** Offset (after the header) of the last slot of a group. */
  readonly lastSlot: number;

  /** @param stride Bytes from one slot header to the next (a multiple of 8, at least 16). */
  constructor(stride: number) {
    this.stride = stride;
    this.shift = 31 - Math.clz32(stride);
    let group = 1 << 30;
    while (group >= 2 * 64 * stride && group > 1024) group >>>= 1;
    this.groupBytes = group;
    this.groupMask = group - 1;
    const bits = Math.ceil(group / 2 ** this.shift);
    this.bitWords = Math.ceil(bits / 32);
    this.headerBytes = (8 + 4 * this.bitWords + 7) & -8;
    this.slots = Math.floor((group - this.headerBytes) / stride);
    this.lastSlot = (this.slots - 1) * stride;
  }

  /**
   * Bit number -> offset after the header of the slot that owns the bit (-1 for bits no slot owns):
   * a slot boundary is told by one load instead of a modulo. Distinct slots get distinct bits, as
   * 2^shift <= stride.
   *
   * @returns The table, one entry per bit.
   */
  slotTable(): Int32Array {
    const table = new Int32Array(this.bitWords * 32).fill(-1);
    for (let j = 0; j < this.slots; j++) table[(j * this.stride) >> this.shift] = j * this.stride;
    return table;
  }
}

/** The mark a group's header carries at byte offset g (keyed, so old layouts and overflows show). */
export function groupMark(g: number, secret: number): number {
  return blockTag(g, 0x6d61702d, secret ^ 0x51ed270b);
}

/** Writes an empty header for the group at byte offset g. */
export function openGroup(m: Int32Array, geometry: PoolGeometry, g: number, secret: number): void {
  const w = g >> 2;
  const mark = groupMark(g, secret);
  m[w] = mark;
  m[w + 1] = mark;
  for (let i = 0; i < geometry.bitWords; i++) m[w + 2 + i] = 0;
}

/** Whether the group header at byte offset g still carries its marks. */
export function groupMarked(m: Int32Array, g: number, secret: number): boolean {
  const mark = groupMark(g, secret);
  return m[g >> 2] === mark && m[(g >> 2) + 1] === mark;
}

/** Word index of the bit word holding bit k of the group at byte offset g. */
export function bitWord(g: number, k: number): number {
  return (g >> 2) + 2 + (k >> 5);
}

/** The map bit (0 or 1) of the slot r bytes after the header of the group at byte offset g. */
export function mapBit(m: Int32Array, geometry: PoolGeometry, g: number, r: number): number {
  const k = r >> geometry.shift;
  return ((m[bitWord(g, k)] as number) >>> (k & 31)) & 1;
}
