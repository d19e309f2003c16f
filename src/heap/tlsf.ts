import { InvalidArgumentError } from "../internal/errors.js";
import type { Backing } from "./backing.js";
import { type CAllocatorFunctions, startEngine, type WasmAllocator } from "./engine.js";
import { ALIGN, BLOCK_HEADER, blockTag, H_LIVE, H_USED, TAG_CACHED } from "./layout.js";
import type { HeapInstanceOptions } from "./options.js";
import { TLSF_LAYOUT, TlsfCore } from "./tlsf-core.js";

const {
  F_FREE,
  F_LEFT_FREE,
  FLAGS,
  SL_BITS,
  SL_COUNT,
  FL_COUNT,
  MIN_SIZE,
  MIN_SPLIT,
  W_FL,
  W_SL,
  CONTROL_WORDS,
  sizeClass,
} = TLSF_LAYOUT;

/**
 * The TLSF strategy: the default general-purpose heap (O(1) malloc and free, immediate
 * coalescing, good fit). Its layout, threat model and hot paths are in tlsf-core.ts; this file
 * holds what runs rarely: walks, `check()`, `attach` validation and `recover()`'s rebuild.
 *
 * @example
 * ```ts
 * const heap = Heap.create({ strategy: "tlsf" }) as TlsfHeap;
 * heap.free(heap.malloc(100));
 * ```
 */
export class TlsfHeap extends TlsfCore {
  /** What C's calls fall back to and where their errors go (see `wasmAllocator`). */
  private cFallback: CAllocatorFunctions | undefined = undefined;
  private cErrors: ((error: unknown) => void) | undefined = undefined;

  /**
   * @internal Use `Heap.create`, `Heap.fixed`, `Heap.over` or `Heap.attach`. Starts the
   * WebAssembly engine when the heap is direct and over a non-shared WebAssembly memory.
   */
  constructor(backing: Backing, base: number, options: HeapInstanceOptions) {
    super(backing, base, options);
    const engine = options.engine ?? "wasm";
    if (engine !== "wasm" && engine !== "typescript") {
      throw new InvalidArgumentError(`engine must be "wasm" or "typescript", got ${String(engine)}`);
    }
    this.engine =
      engine === "wasm" && this.direct && backing.wasm && !backing.shared
        ? startEngine(
            backing.memory as Parameters<typeof startEngine>[0],
            (kind, a, b, fromC) => this.engineCold(kind, a, b, fromC),
            () => this.cFallback,
          )
        : undefined;
    if (this.engine !== undefined) this.bindEngine(this.engine.bind);
  }

  /** Binds an engine (this heap's own, or one compiled into a C module) to this heap. */
  private bindEngine(
    bind: (h: number, start: number, limit: number, secret: number, zeroAlloc: number, zeroFree: number) => void,
  ): void {
    bind(this.h, this.start, this.limit, this.secret, this.zeroAlloc ? 1 : 0, this.zeroFree ? 1 : 0);
  }

  protected override limitMoved(): void {
    this.engine?.set_limit(this.limit);
  }

  override wasmAllocator(fallback: CAllocatorFunctions, onError: (error: unknown) => void): WasmAllocator | undefined {
    const engine = this.engine;
    if (engine === undefined) return undefined;
    this.cFallback = fallback;
    this.cErrors = onError;
    return {
      malloc: engine.c_malloc,
      free: engine.c_free,
      calloc: engine.c_calloc,
      realloc: engine.c_realloc,
      cold: (kind, a, b, fromC) => this.engineCold(kind, a, b, fromC),
      bindLinked: (memkitBind) => this.bindEngine(memkitBind),
    };
  }

  /**
   * A failed check in the engine: runs tlsf-core.ts's cold path for it (numbers from engine/tlsf.c),
   * which throws the error the TypeScript hot path would have thrown. For a call made by C the
   * error goes to `wasmAllocator`'s onError instead and the engine returns NULL to C.
   */
  private engineCold(kind: number, a: number, b: number, fromC: number): void {
    try {
      // The engine follows a moved end word itself; the cold path's range checks need it too.
      this.fresh();
      this.coldPath(kind, a, b);
    } catch (error) {
      const sink = this.cErrors;
      if (fromC === 0 || sink === undefined) throw error;
      sink(error);
    }
  }

  private coldPath(kind: number, a: number, b: number): never {
    switch (kind) {
      case 1:
        return this.badHead(a, b);
      case 2:
        return this.badLink(a, b);
      case 3:
        return this.staleFree(a);
      case 4:
        return this.badHeader(a);
      case 5:
        return this.notLive(a);
      case 6:
        return this.corrupt(a, "a live block has an impossible size");
      case 7:
        return this.badRight(a, b);
      case 8:
        return this.badBackPointer(a, b);
      case 9:
        return this.corrupt(a, `a free block has an impossible size ${b}`);
      case 10:
        return this.badNeighbour(a, b + 8, a + 12, "a free list's forward link is broken");
      case 11:
        return this.badNeighbour(a, b + 12, a + 8, "a free list's back link is broken");
      case 12:
        return this.corrupt(a + 8, "a free block without a previous link is not its list's head");
      default:
        return this.corrupt(a, `the WebAssembly engine reported an unknown failure ${kind}`);
    }
  }

  /**
   * Visits every block in address order. Bounded: each step is a checked header of at least
   * MIN_SIZE bytes that ends inside the region; anything else is a HeapCorruptionError.
   */
  protected override walk(visit: (ptr: number, size: number, free: boolean) => void): void {
    const sentinel = this.sentinel();
    let b = this.start;
    while (b < sentinel) {
      const word = this.header(b);
      const size = word & ~FLAGS;
      if (size < MIN_SIZE || b + BLOCK_HEADER + size > sentinel)
        this.corrupt(b, `block header holds an impossible size ${size}`);
      visit(b + BLOCK_HEADER, size, (word & F_FREE) !== 0);
      b += BLOCK_HEADER + size;
    }
    if (b !== sentinel) this.corrupt(b, "blocks do not end at the sentinel");
  }

  protected override verify(): void {
    const m = this.m;
    const h = this.h;
    const sentinel = this.sentinel();
    let leftFree = false;
    let freeCount = 0;
    let used = 0;
    let live = 0;
    let prev = 0;
    this.walk((ptr, size, free) => {
      const b = ptr - BLOCK_HEADER;
      // Invariant: the L flag says exactly whether the left neighbour is free.
      if ((((m[b >> 2] as number) & F_LEFT_FREE) !== 0) !== leftFree) {
        this.corrupt(b, "the left-free flag disagrees with the block to the left");
      }
      if (free) {
        // Invariant: coalescing is immediate, so no two free blocks are adjacent.
        if (leftFree) this.corrupt(b, "two adjacent free blocks were not merged");
        if (m[(ptr + size - 4) >> 2] !== b) this.corrupt(ptr + size - 4, "a free block's back pointer is wrong");
        freeCount++;
      } else {
        used += size;
        live++;
      }
      leftFree = free;
      prev = b;
    });
    const sentinelWord = this.header(sentinel);
    if ((sentinelWord & ~F_LEFT_FREE) !== 0) this.corrupt(sentinel, "the end sentinel was overwritten");
    if (((sentinelWord & F_LEFT_FREE) !== 0) !== leftFree) {
      this.corrupt(sentinel, `the sentinel's left-free flag disagrees with the last block at ${prev}`);
    }
    this.verifyLists(freeCount);
    if (used !== m[h + H_USED] || live !== m[h + H_LIVE]) {
      this.corrupt(h * 4, `counters say ${m[h + H_LIVE]} live blocks, the walk found ${live}`);
    }
  }

  /** @internal Checks the bitmaps and list heads against the region (attach): O(classes), no walk. */
  override checkControl(): void {
    const m = this.m;
    const h = this.h;
    const sentinel = this.sentinel();
    const flMap = m[h + W_FL] as number;
    if (flMap >>> FL_COUNT !== 0)
      this.corrupt((h + W_FL) * 4, "the first-level bitmap names classes that do not exist");
    for (let fl = 0; fl < FL_COUNT; fl++) {
      const slMap = m[h + W_SL + fl] as number;
      if (((flMap >>> fl) & 1) !== (slMap !== 0 ? 1 : 0))
        this.corrupt((h + W_FL) * 4, `first-level bitmap bit ${fl} is wrong`);
      for (let sl = 0; sl < SL_COUNT; sl++) {
        const head = m[this.headIndex(fl, sl)] as number;
        if (((slMap >>> sl) & 1) !== (head !== 0 ? 1 : 0)) {
          this.corrupt((h + W_SL + fl) * 4, `second-level bitmap bit ${fl}/${sl} is wrong`);
        }
        if (head !== 0 && ((head & 7) !== 0 || head < this.start || head >= sentinel)) {
          this.corrupt(this.headIndex(fl, sl) * 4, `a free-list head holds ${head}, outside the block region`);
        }
      }
    }
  }

  private verifyLists(expectedFree: number): void {
    const m = this.m;
    const h = this.h;
    const flMap = m[h + W_FL] as number;
    if (flMap >>> FL_COUNT !== 0)
      this.corrupt((h + W_FL) * 4, "the first-level bitmap names classes that do not exist");
    let listed = 0;
    for (let fl = 0; fl < FL_COUNT; fl++) {
      const slMap = m[h + W_SL + fl] as number;
      // Invariant: a first-level bit is set exactly when its second-level map is non-zero.
      if (((flMap >>> fl) & 1) !== (slMap !== 0 ? 1 : 0))
        this.corrupt((h + W_FL) * 4, `first-level bitmap bit ${fl} is wrong`);
      for (let sl = 0; sl < SL_COUNT; sl++) {
        let b = m[this.headIndex(fl, sl)] as number;
        // Invariant: a second-level bit is set exactly when its list is non-empty.
        if (((slMap >>> sl) & 1) !== (b !== 0 ? 1 : 0)) {
          this.corrupt((h + W_SL + fl) * 4, `second-level bitmap bit ${fl}/${sl} is wrong`);
        }
        let prev = 0;
        while (b !== 0) {
          const size = this.freeHeader(b) & ~FLAGS;
          // Invariant: a block is listed under the class of its exact size.
          if (sizeClass(size) !== ((fl << SL_BITS) | sl))
            this.corrupt(b, "a free block is listed in the wrong size class");
          if (this.link(b + 8) !== prev) this.corrupt(b + 8, "a free list's back link is wrong");
          if (++listed > expectedFree) this.corrupt(b, "free lists hold more blocks than the heap (a cycle?)");
          prev = b;
          b = this.link(b + 12);
        }
      }
    }
    if (listed !== expectedFree)
      this.corrupt(this.start, `${expectedFree - listed} free block(s) are missing from the free lists`);
  }

  /**
   * @internal Rebuilds the free structures from the blocks (see `recover()`): every block whose
   * header checks out is kept as it is (live or cached), runs of free blocks and of unreadable
   * bytes become free blocks, and the lists, bitmaps, L flags, back pointers and counters are
   * written anew. Returns the ranges whose headers could not be read.
   */
  protected override rebuild(): { offset: number; bytes: number }[] {
    const m = this.m;
    const h = this.h;
    const sentinel = this.sentinel();
    for (let i = h + W_FL; i < h + CONTROL_WORDS; i++) m[i] = 0;
    const lost: { offset: number; bytes: number }[] = [];
    let used = 0;
    let live = 0;
    let freeFrom = -1;
    let b = this.start;
    const flushFree = (to: number) => {
      if (freeFrom < 0) return;
      const size = to - freeFrom - BLOCK_HEADER;
      this.setHeader(freeFrom, size | F_FREE);
      m[(to - 4) >> 2] = freeFrom;
      this.insertFree(freeFrom, size);
      freeFrom = -1;
    };
    while (b < sentinel) {
      const state = this.readable(b, sentinel);
      if (state === "bad") {
        // Scan to the next header that checks out; the bytes in between are lost to the program.
        let next = b + ALIGN;
        while (next < sentinel && this.readable(next, sentinel) === "bad") next += ALIGN;
        if (next - b < MIN_SPLIT && freeFrom < 0) next = Math.min(sentinel, b + MIN_SPLIT);
        lost.push({ offset: b, bytes: next - b });
        if (freeFrom < 0) freeFrom = b;
        b = next;
        continue;
      }
      const word = m[b >> 2] as number;
      const size = word & ~FLAGS;
      if ((word & F_FREE) !== 0) {
        if (freeFrom < 0) freeFrom = b;
      } else {
        const wasFree = freeFrom >= 0;
        flushFree(b);
        m[b >> 2] = wasFree ? word | F_LEFT_FREE : word & ~F_LEFT_FREE;
        used += size;
        live++;
      }
      b += BLOCK_HEADER + size;
    }
    const wasFree = freeFrom >= 0;
    flushFree(sentinel);
    this.setHeader(sentinel, wasFree ? F_LEFT_FREE : 0);
    m[h + H_USED] = used;
    m[h + H_LIVE] = live;
    return lost;
  }

  /** Whether a header at b checks out well enough to step over ("ok") during a rebuild. */
  private readable(b: number, sentinel: number): "ok" | "bad" {
    const m = this.m;
    const word = m[b >> 2] as number;
    const diff = (m[(b + 4) >> 2] as number) ^ blockTag(b, word & ~F_LEFT_FREE, this.secret);
    const size = word & ~FLAGS;
    if (diff !== 0 && diff !== TAG_CACHED) return "bad";
    return size >= MIN_SIZE && b + BLOCK_HEADER + size <= sentinel ? "ok" : "bad";
  }
}
