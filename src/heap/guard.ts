import { DoubleFreeError, HeapCorruptionError, InvalidPointerError } from "./errors.js";
import type { HeapInstanceOptions, LeakReport } from "./options.js";
import type { LiveBlock } from "./stats.js";

/**
 * The checked path of a heap (debug, site tracking, leak detection). It sits between the public
 * API and the strategy, so the fast path pays one `undefined` check and nothing else.
 *
 * Debug block layout, inside one strategy block:
 * ```
 *   inner                ptr = inner + RED                ptr + size           inner + usable
 *   | red zone (0xFD x16) | user bytes (size)              | red zone + slack (0xFD) |
 * ```
 * Freed blocks are filled with 0xDD and kept in a FIFO quarantine (at most QUARANTINE_BLOCKS blocks
 * and QUARANTINE_BYTES bytes) before the strategy sees them, so a late write is seen on eviction
 * or by `check()`.
 */
const RED = 16;
const RED_BYTE = 0xfd;
const FREED_BYTE = 0xdd;
const QUARANTINE_BLOCKS = 256;
const QUARANTINE_BYTES = 1 << 20;

interface BlockRecord {
  readonly size: number;
  /** Bytes of front red zone: RED, or the alignment when that is larger (so ptr stays aligned). */
  readonly front: number;
  readonly site: string | undefined;
  pinned: boolean;
}

/** The strategy operations the guard calls, each already taking the heap's lock. */
export interface GuardPrimitives {
  allocate(bytes: number, align: number): number;
  release(ptr: number): void;
  usable(ptr: number): number;
  reallocate(ptr: number, bytes: number): number;
  /** False for a strategy whose blocks have exactly the asked size (pool): no red zones, only slack checks. */
  readonly redZones: boolean;
}

interface Bytes {
  readonly u8: Uint8Array;
}

function captureSite(): string {
  const stack = new Error("site").stack ?? "";
  // Drop the message line and memkit's own frames so the first line is the caller's.
  return stack
    .split("\n")
    .slice(1)
    .filter((line) => !/[\\/]heap[\\/](guard|heap|cell)\.(js|ts)/.test(line))
    .slice(0, 8)
    .map((line) => line.trim())
    .join("\n");
}

function findNot(u8: Uint8Array, from: number, to: number, value: number): number {
  for (let i = from; i < to; i++) if (u8[i] !== value) return i;
  return -1;
}

/** Debug checks, site tracking and GC leak detection for one heap object. */
export class Guard {
  private readonly debug: boolean;
  private readonly trackSites: boolean;
  private records = new Map<number, BlockRecord>();
  private quarantine: number[] = [];
  private quarantined = new Map<number, BlockRecord>();
  private quarantineBytes = 0;
  private readonly leaks: LeakReport[] = [];
  private readonly registry: FinalizationRegistry<{ ptr: number; record: BlockRecord }> | undefined;

  constructor(
    private readonly heap: Bytes,
    options: HeapInstanceOptions,
    private readonly prims: GuardPrimitives,
  ) {
    this.debug = options.debug === true;
    this.trackSites = options.trackSites === true;
    const detect = options.detectLeaks ?? true;
    const onLeak = options.onLeak;
    this.registry = detect
      ? new FinalizationRegistry(({ ptr, record }) => {
          if (this.records.get(ptr) !== record || record.pinned) return;
          const leak = { ptr, size: record.size, site: record.site };
          this.leaks.push(leak);
          onLeak?.(leak);
        })
      : undefined;
  }

  malloc(bytes: number, align: number): number {
    let ptr: number;
    const front = !this.prims.redZones ? 0 : align > RED ? align : RED;
    if (this.debug) {
      const tail = front === 0 ? 0 : RED;
      let inner = this.prims.allocate(bytes + front + tail, front === 0 ? align : front);
      if (inner === 0 && this.quarantine.length > 0) {
        while (this.quarantine.length > 0) this.evict();
        inner = this.prims.allocate(bytes + front + tail, front === 0 ? align : front);
      }
      if (inner === 0) return 0;
      ptr = inner + front;
      const u8 = this.heap.u8;
      u8.fill(RED_BYTE, inner, ptr);
      u8.fill(RED_BYTE, ptr + bytes, inner + this.prims.usable(inner));
    } else {
      ptr = this.prims.allocate(bytes, align);
      if (ptr === 0) return 0;
    }
    this.records.set(ptr, { size: bytes, front, site: this.trackSites ? captureSite() : undefined, pinned: false });
    return ptr;
  }

  /** Throws the right error for a pointer this heap object holds no record of. */
  private unknown(ptr: number): never {
    if (this.quarantined.has(ptr)) throw new DoubleFreeError(ptr);
    if (!this.debug) {
      // Allocated by another thread or before attach: the strategy's own checks decide.
      this.prims.usable(ptr);
      throw new InvalidPointerError(ptr, "the block is not known to this heap object");
    }
    try {
      if (!this.prims.redZones) throw new InvalidPointerError(ptr, "no block starts there");
      this.prims.usable(ptr - RED);
    } catch (error) {
      if (error instanceof DoubleFreeError) throw new DoubleFreeError(ptr);
      throw new InvalidPointerError(ptr, "no block starts there");
    }
    throw new InvalidPointerError(ptr, "no block starts there");
  }

  /** Forgets the blocks in [from, to): an arena `reset()` dropped them (quarantined ones too). */
  forget(from: number, to: number): void {
    for (const ptr of [...this.records.keys()]) if (ptr >= from && ptr < to) this.records.delete(ptr);
    const kept: number[] = [];
    for (const ptr of this.quarantine) {
      const record = this.quarantined.get(ptr);
      if (ptr >= from && ptr < to) {
        if (record !== undefined) this.quarantineBytes -= record.size;
        this.quarantined.delete(ptr);
      } else kept.push(ptr);
    }
    this.quarantine = kept;
  }

  private checkRedZones(ptr: number, { size, front }: BlockRecord): void {
    const u8 = this.heap.u8;
    const before = findNot(u8, ptr - front, ptr, RED_BYTE);
    if (before >= 0) throw new HeapCorruptionError(before, `write before the start of the block at ${ptr} (red zone)`);
    const end = ptr - front + this.prims.usable(ptr - front);
    const after = findNot(u8, ptr + size, end, RED_BYTE);
    if (after >= 0) throw new HeapCorruptionError(after, `write past the end of the block at ${ptr} (${size} bytes)`);
  }

  private evict(): void {
    const ptr = this.quarantine.shift();
    if (ptr === undefined) return;
    const record = this.quarantined.get(ptr);
    if (record === undefined) return;
    this.quarantined.delete(ptr);
    this.quarantineBytes -= record.size;
    const bad = findNot(this.heap.u8, ptr, ptr + record.size, FREED_BYTE);
    this.prims.release(ptr - record.front);
    if (bad >= 0) throw new HeapCorruptionError(bad, `write after free into the block that was at ${ptr}`);
  }

  free(ptr: number): void {
    if (!this.debug) {
      if (this.records.has(ptr)) {
        this.prims.release(ptr);
        this.records.delete(ptr);
        return;
      }
      if (this.quarantined.has(ptr)) throw new DoubleFreeError(ptr);
      this.prims.release(ptr);
      return;
    }
    const record = this.records.get(ptr);
    if (record === undefined) this.unknown(ptr);
    this.checkRedZones(ptr, record);
    this.records.delete(ptr);
    this.heap.u8.fill(FREED_BYTE, ptr, ptr + record.size);
    this.quarantine.push(ptr);
    this.quarantined.set(ptr, record);
    this.quarantineBytes += record.size;
    while (this.quarantine.length > QUARANTINE_BLOCKS || this.quarantineBytes > QUARANTINE_BYTES) this.evict();
  }

  usableSize(ptr: number): number {
    const record = this.records.get(ptr);
    if (!this.debug) return this.prims.usable(ptr);
    if (record === undefined) this.unknown(ptr);
    return record.size;
  }

  realloc(ptr: number, bytes: number): number {
    const record = this.records.get(ptr);
    if (!this.debug) {
      const moved = this.prims.reallocate(ptr, bytes);
      if (moved !== 0 && record !== undefined) {
        this.records.delete(ptr);
        this.records.set(moved, { ...record, size: bytes });
      }
      return moved;
    }
    if (record === undefined) this.unknown(ptr);
    const moved = this.malloc(bytes, 8);
    if (moved === 0) return 0;
    this.heap.u8.copyWithin(moved, ptr, ptr + Math.min(bytes, record.size));
    this.free(ptr);
    return moved;
  }

  adopt(cell: { readonly ptr: number }): void {
    const record = this.records.get(cell.ptr);
    if (record !== undefined) this.registry?.register(cell, { ptr: cell.ptr, record });
  }

  pin(ptr: number): void {
    const record = this.records.get(ptr);
    if (record !== undefined) record.pinned = true;
  }

  /** Adds sites to walked blocks; in debug mode lists user blocks (quarantine hidden). */
  locate(walked: readonly LiveBlock[]): LiveBlock[] {
    if (this.debug) {
      return [...this.records].map(([ptr, r]) => ({ ptr, size: r.size, site: r.site, intentional: r.pinned }));
    }
    return walked
      .filter((b) => !this.quarantined.has(b.ptr))
      .map((b) => {
        const r = this.records.get(b.ptr);
        return r ? { ...b, site: r.site, intentional: r.pinned } : b;
      });
  }

  check(): void {
    if (!this.debug) return;
    for (const [ptr, record] of this.records) this.checkRedZones(ptr, record);
    for (const [ptr, { size }] of this.quarantined) {
      const bad = findNot(this.heap.u8, ptr, ptr + size, FREED_BYTE);
      if (bad >= 0) throw new HeapCorruptionError(bad, `write after free into the block that was at ${ptr}`);
    }
  }

  collected(): LeakReport[] {
    return [...this.leaks];
  }

  save(): unknown {
    return {
      records: new Map([...this.records].map(([p, r]) => [p, { ...r }])),
      quarantine: [...this.quarantine],
      quarantined: new Map(this.quarantined),
      quarantineBytes: this.quarantineBytes,
    };
  }

  load(state: unknown): void {
    const s = state as {
      records: Map<number, BlockRecord>;
      quarantine: number[];
      quarantined: Map<number, BlockRecord>;
      quarantineBytes: number;
    };
    this.records = new Map([...s.records].map(([p, r]) => [p, { ...r }]));
    this.quarantine = [...s.quarantine];
    this.quarantined = new Map(s.quarantined);
    this.quarantineBytes = s.quarantineBytes;
  }
}
