/** Figures about a heap's memory, from `heap.stats()`. */
export interface HeapStats {
  /** Bytes of the managed region (header included). */
  readonly capacity: number;
  /** Usable bytes of live blocks. */
  readonly used: number;
  /** Bytes in free blocks. */
  readonly free: number;
  /** Highest `used` ever seen. */
  readonly peakUsed: number;
  /** Highest offset any block reached, from the heap's base: the memory really touched. */
  readonly highWater: number;
  readonly liveBlocks: number;
  readonly freeBlocks: number;
  /** The largest single free block: the largest allocation that fits without growing. */
  readonly largestFree: number;
  /** 1 - largestFree / free: 0 when all free memory is one block, near 1 when it is in crumbs. */
  readonly fragmentation: number;
}

/** One live block, from `heap.live()`. */
export interface LiveBlock {
  readonly ptr: number;
  readonly size: number;
  /** Allocation stack (with `trackSites`), else undefined. */
  readonly site: string | undefined;
  /** True when marked permanent with `heap.leak()`. */
  readonly intentional: boolean;
}

/** Live blocks from one allocation site, from `heap.leakReport()`. */
export interface SiteReport {
  readonly site: string;
  readonly blocks: number;
  readonly bytes: number;
  readonly pointers: readonly number[];
}

/** What `heap.recover()` did, from `heap.recover()`. */
export interface RecoveryReport {
  /** True when a thread had died holding the lock (the heap was poisoned). */
  readonly wasPoisoned: boolean;
  /** Lock owner id of the thread declared dead (0 when none). */
  readonly deadOwner: number;
  /** Live blocks kept (every block whose header checked out). */
  readonly liveBlocks: number;
  /** Byte ranges whose headers no longer checked out: turned into free space, their contents lost. */
  readonly lost: readonly { readonly offset: number; readonly bytes: number }[];
}

type Walk = (visit: (ptr: number, size: number, free: boolean) => void) => void;

/** Derives the stats from one walk over the blocks plus the header's counters. */
export function computeStats(
  walk: Walk,
  capacity: number,
  used: number,
  peakUsed: number,
  highWater: number,
): HeapStats {
  let free = 0;
  let freeBlocks = 0;
  let liveBlocks = 0;
  let largestFree = 0;
  walk((_ptr, size, isFree) => {
    if (!isFree) {
      liveBlocks++;
      return;
    }
    free += size;
    freeBlocks++;
    if (size > largestFree) largestFree = size;
  });
  const fragmentation = free === 0 ? 0 : 1 - largestFree / free;
  return { capacity, used, free, peakUsed, highWater, liveBlocks, freeBlocks, largestFree, fragmentation };
}

/** Groups live blocks by site, largest total first. */
export function groupBySite(blocks: readonly LiveBlock[]): SiteReport[] {
  const bySite = new Map<string, { blocks: number; bytes: number; pointers: number[] }>();
  for (const block of blocks) {
    const site = block.site ?? "(unknown site: create the heap with trackSites: true)";
    const entry = bySite.get(site) ?? { blocks: 0, bytes: 0, pointers: [] };
    entry.blocks++;
    entry.bytes += block.size;
    entry.pointers.push(block.ptr);
    bySite.set(site, entry);
  }
  return [...bySite.entries()].map(([site, e]) => ({ site, ...e })).sort((a, b) => b.bytes - a.bytes);
}
