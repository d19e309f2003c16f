/**
 * Corruption fuzzer for memkit/heap (issue 10, deliverable 7). One case, from its seed alone:
 * build a heap through the public API (Heap.fixed / create / over, each strategy, debug on or off),
 * use it, write random bytes and words into its memory (header, control words, block headers, payload
 * edges, freed blocks' links, arena top / pool head, anywhere), then run random operations and check
 * the invariant of the hardened heap after every call:
 *
 *   every call ends normally or throws a memkit error with an ERR_MEMKIT_* code; no call runs forever;
 *   no call returns a pointer outside the block region or overlapping a block the caller holds.
 *
 * `Heap.attach` is fuzzed the same way on random bytes and on truncated copies of a real heap.
 *
 * Runs in a worker (see corruption-fuzz-runner.ts) so a hang is seen: the case functions below are
 * shipped to it as source text, so they use only their parameters, each other and JS globals (no
 * imports at run time; the type imports vanish). Layout knowledge is kept to `LAYOUT`; everything else
 * targets regions generically ("the 8 bytes before a live pointer", "a freed block's first words").
 */
import type * as HeapModule from "memkit/heap";

/** The public heap module, passed in (the worker imports it from the build). */
export type HeapLib = typeof HeapModule;
type Heap = HeapModule.Heap;

/** How one case failed the invariant. */
export interface CaseFailure {
  readonly kind: "bad-pointer" | "overlap" | "uncoded-error" | "hang" | "bad-size";
  /** The operation that failed (or was running when the case hung). */
  readonly op: string;
  readonly detail: string;
}

/** One case's outcome: its configuration, the corruption written, error codes seen, a failure if any. */
export interface CaseResult {
  readonly seed: number;
  readonly config: string;
  readonly corruption: string[];
  readonly codes: Record<string, number>;
  readonly failure: CaseFailure | undefined;
  /** The last calls and stray writes, in order, each call with its result or error code. */
  readonly trail: string[];
}

/** Where the worker reports progress: [operations started, index of the running operation's name]. */
export type Progress = Int32Array;

/** Operation names, indexed by the progress word (so a hang can be named from outside). */
export const OP_NAMES: readonly string[] = [
  "setup",
  "malloc",
  "calloc",
  "free",
  "realloc",
  "usableSize",
  "check",
  "stats",
  "live",
  "leakReport",
  "snapshot",
  "restore",
  "attach",
  "arena.mark",
  "arena.reset",
  "flush",
  "cell",
  "huge malloc",
  "corrupt",
  "attach random",
  "attach truncated",
  "bad input",
];

/**
 * Runs one seeded case against `lib`; never throws (failures are returned). `note` hears the
 * configuration and each corruption as they happen (the runner keeps them in case the case hangs).
 */
export function corruptionCase(
  lib: HeapLib,
  seed: number,
  progress: Progress,
  note?: (what: "config" | "corruption", text: string) => void,
  corruptMemory = true,
): CaseResult {
  // Everything below is derived from the seed; the heap's secret too (it comes from Math.random).
  const rand = makeRandom(seed);
  const realRandom = Math.random;
  Math.random = rand;
  const ctx = fuzzContext(lib, rand, progress, note);
  // Choices added after the first findings draw from their own stream, so old seeds still hit old bugs.
  ctx.more = makeRandom(seed ^ 0x5bd1e995);
  // And later ones from a third, so neither of the first two shifts.
  ctx.third = makeRandom(seed ^ 0x27d4eb2d);
  // A fourth for stale copies of live headers (the arena's and TLSF's replay class), and only from seed
  // 400000 on: each copy written back changes what follows, and every seed below must keep finding what
  // it found.
  ctx.fourth = seed >= 400_000 ? makeRandom(seed ^ 0x3c6ef372) : () => 1;
  ctx.corruptMemory = corruptMemory;
  try {
    if (rand() < 0.12) attachCase(ctx);
    else heapCase(ctx);
  } catch (error) {
    // A throw outside ctx.call is the fuzzer's own bug: report it as such (op "harness").
    if (!(error instanceof FuzzStop))
      ctx.failure = { kind: "uncoded-error", op: "harness", detail: describeError(error) };
  } finally {
    Math.random = realRandom;
  }
  const { config, corruption, codes, failure, trail } = ctx;
  return { seed, config, corruption, codes, failure, trail };
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Thrown to end a case at its first failure. */
class FuzzStop extends Error {}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}

/**
 * The only layout facts the fuzzer uses (src/heap/layout.ts, tlsf.ts, arena.ts, pool.ts): header
 * word indices, and that a block's 8-byte header [size | flags][tag] sits just before its payload,
 * a free TLSF block keeps its list links in its first two payload words and a back pointer in its last.
 */
const LAYOUT = {
  magic: 0x4b4d454d,
  version: 1,
  strategies: [1, 2, 3],
  headerBytes: 64,
  /** Header words worth aiming at: lock, end, max end, base, used, peak, live, secret, param, state0/1, high water. */
  stateWords: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  blockHeader: 8,
  leftFreeFlag: 2,
};

interface Block {
  readonly ptr: number;
  readonly size: number;
}

interface Ctx {
  readonly lib: HeapLib;
  readonly rand: () => number;
  /** A second stream for choices added later (see corruptionCase). */
  more: () => number;
  third: () => number;
  fourth: () => number;
  config: string;
  corruption: string[];
  codes: Record<string, number>;
  failure: CaseFailure | undefined;
  heap: Heap | undefined;
  /** Blocks the caller holds: returned and not successfully freed. */
  live: Block[];
  /** Recently freed blocks (their memory is fair game for stale writes). */
  freed: Block[];
  /** Old bytes of freed blocks' metadata, kept to be written back later (a stale copy restored). */
  stale: { at: number; bytes: Uint8Array }[];
  /** Old headers of blocks when they were live, kept to be written back after the block is gone. */
  staleLive: { at: number; bytes: Uint8Array }[];
  trail: string[];
  /** The heap was built with debug: true (red zones move its pointers off the strategy's blocks). */
  debug: boolean;
  /**
   * Calls kept in the trail (the failure report prints the last 12; MEMKIT_FUZZ_RESULTS keeps them
   * all): 60, or MEMKIT_FUZZ_TRAIL, to see how a block a failure names was made.
   */
  trailLength: number;
  /** Appends to the trail, keeping the last `trailLength` entries. */
  log(entry: string): void;
  /** Lowest pointer a block of this heap may have (first pointer of an identical fresh heap). */
  minPtr: number;
  snapshot: { snap: HeapModule.HeapSnapshot; live: Block[] } | undefined;
  mark: { mark: number; live: Block[] } | undefined;
  cells: { cell: { ptr: number; free(): void }; size: number }[];
  /** False for a control run: the same cases with no stray writes (the fuzzer's own false-alarm check). */
  corruptMemory: boolean;
  begin(op: number): void;
  note(what: "config" | "corruption", text: string): void;
  fail(kind: CaseFailure["kind"], op: string, detail: string): never;
  /** Runs `fn`; a coded memkit error is counted and returns undefined, anything else fails the case. */
  call<T>(op: string, fn: () => T): T | undefined;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

function fuzzContext(
  lib: HeapLib,
  rand: () => number,
  progress: Progress,
  note: ((what: "config" | "corruption", text: string) => void) | undefined,
): Ctx {
  const ctx: Ctx = {
    lib,
    rand,
    more: rand,
    third: rand,
    fourth: rand,
    config: "",
    corruption: [],
    codes: {},
    failure: undefined,
    heap: undefined,
    live: [],
    freed: [],
    stale: [],
    staleLive: [],
    trail: [],
    trailLength: Number(process.env.MEMKIT_FUZZ_TRAIL ?? 60),
    debug: false,
    log(entry) {
      ctx.trail.push(entry);
      if (ctx.trail.length > ctx.trailLength) ctx.trail.shift();
    },
    minPtr: 0,
    snapshot: undefined,
    mark: undefined,
    cells: [],
    corruptMemory: true,
    begin(op) {
      Atomics.add(progress, 0, 1);
      Atomics.store(progress, 1, op);
    },
    note(what, text) {
      if (what === "config") ctx.config = text;
      else {
        ctx.corruption.push(text);
        ctx.log(`WRITE ${text}`);
      }
      note?.(what, text);
    },
    fail(kind, op, detail) {
      ctx.failure = { kind, op, detail };
      throw new FuzzStop(detail);
    },
    call(op, fn) {
      try {
        const result = fn();
        ctx.log(`${op} -> ${typeof result === "number" ? result : typeof result === "object" ? "ok" : String(result)}`);
        return result;
      } catch (error) {
        if (error instanceof FuzzStop) throw error;
        const code = (error as { code?: unknown } | null)?.code;
        if (error instanceof Error && typeof code === "string" && code.startsWith("ERR_MEMKIT_")) {
          ctx.codes[code] = (ctx.codes[code] ?? 0) + 1;
          ctx.log(`${op} -> ${code}`);
          return undefined;
        }
        return ctx.fail("uncoded-error", op, describeError(error));
      }
    },
    int: (n) => Math.floor(rand() * n),
    pick: (items) => items[Math.floor(rand() * items.length)] as never,
  };
  return ctx;
}

/** Checks a pointer a call returned for `size` bytes: inside the block region, free of every held block. */
function checkPointer(ctx: Ctx, op: string, ptr: unknown, size: number, except?: number): number {
  const heap = ctx.heap as Heap;
  const length = heap.buffer.byteLength;
  const n = Math.max(1, size);
  if (typeof ptr !== "number" || !Number.isInteger(ptr) || ptr % 8 !== 0 || ptr < ctx.minPtr || ptr + n > length) {
    ctx.fail("bad-pointer", op, `returned ${String(ptr)} for ${size} bytes; blocks lie in [${ctx.minPtr}, ${length})`);
  }
  for (const block of ctx.live) {
    if (block.ptr === except) continue;
    if (ptr < block.ptr + Math.max(1, block.size) && block.ptr < ptr + n) {
      ctx.fail("overlap", op, `returned ${ptr} (+${size}) overlapping held block ${block.ptr} (+${block.size})`);
    }
  }
  return ptr;
}

function opIndex(name: string): number {
  const i = OP_NAMES.indexOf(name);
  return i < 0 ? 0 : i;
}

function removeLive(ctx: Ctx, ptr: number): Block | undefined {
  const i = ctx.live.findIndex((b) => b.ptr === ptr);
  if (i < 0) return undefined;
  const [block] = ctx.live.splice(i, 1);
  return block;
}

function randomSize(ctx: Ctx): number {
  const r = ctx.rand();
  if (r < 0.05) return 0;
  if (r < 0.6) return 1 + ctx.int(64);
  if (r < 0.9) return 1 + ctx.int(1024);
  return 1 + ctx.int(16384);
}

/** A heap through the public API, a configuration picked from the seed. */
function buildHeap(ctx: Ctx): { heap: Heap; make: (plain: boolean) => Heap } {
  const { Heap } = ctx.lib;
  const strategy = ctx.pick(["tlsf", "tlsf", "arena", "pool"] as const);
  const debug = ctx.rand() < 0.3;
  ctx.debug = debug;
  const zero = ctx.pick(["alloc", "free", "none"] as const);
  const cache = ctx.rand() < 0.15;
  const slotSize = ctx.pick([16, 64, 200]);
  const maker = ctx.pick(["fixed", "create", "create-shared", "over-buffer", "over-wasm"] as const);
  const base = maker.startsWith("over") ? ctx.pick([0, 64, 1024]) : 0;
  const trackSites = ctx.more() < 0.15;
  const chosen = {
    strategy,
    debug,
    zero,
    cache,
    slotSize,
    ...(base === 0 ? {} : { base }),
    ...(trackSites ? { trackSites } : {}),
  };
  ctx.note("config", `${maker} ${JSON.stringify(chosen)}`);
  const make = (plain: boolean): Heap => {
    const options = plain ? { ...chosen, debug: false, trackSites: false } : chosen;
    if (maker === "fixed") return Heap.fixed(64 * 1024, options);
    if (maker === "create") return Heap.create({ ...options, initialBytes: 16 * 1024, maxBytes: 1 << 20 });
    if (maker === "create-shared")
      return Heap.create({ ...options, shared: true, initialBytes: 16 * 1024, maxBytes: 1 << 20 });
    if (maker === "over-buffer") return Heap.over(new ArrayBuffer(64 * 1024), options);
    return Heap.over(new WebAssembly.Memory({ initial: 1, maximum: 16 }), options);
  };
  return { heap: make(false), make };
}

/** One random operation on ctx.heap, checked. */
function randomOp(ctx: Ctx): void {
  const heap = ctx.heap as Heap;
  const r = ctx.rand() * 100;
  const held = ctx.live.length > 0 ? ctx.pick(ctx.live) : undefined;
  if (r < 30) {
    const size = randomSize(ctx);
    const align = ctx.more() < 0.2 ? ([16, 64, 256, 4096][Math.floor(ctx.more() * 4)] ?? 16) : 8;
    ctx.begin(opIndex("malloc"));
    const ptr = ctx.call(`malloc(${size}, ${align})`, () => heap.malloc(size, align));
    if (ptr === undefined) return;
    const op = `malloc(${size}, ${align})`;
    if (ptr % align !== 0) ctx.fail("bad-pointer", op, `returned ${ptr}, not aligned to ${align}`);
    ctx.live.push({ ptr: checkPointer(ctx, op, ptr, size), size });
    rememberLive(ctx, ptr);
  } else if (r < 33) {
    const count = ctx.int(20);
    const size = ctx.int(64);
    ctx.begin(opIndex("calloc"));
    const ptr = ctx.call(`calloc(${count}, ${size})`, () => heap.calloc(count, size));
    if (ptr !== undefined) ctx.live.push({ ptr: checkPointer(ctx, "calloc", ptr, count * size), size: count * size });
  } else if (r < 53) {
    if (held === undefined) return;
    ctx.begin(opIndex("free"));
    const done = ctx.call(`free(${held.ptr})`, () => {
      heap.free(held.ptr);
      return true;
    });
    if (done) {
      removeLive(ctx, held.ptr);
      ctx.freed.push(held);
      rememberStale(ctx, held);
      if (ctx.freed.length > 16) ctx.freed.shift();
    }
  } else if (r < 65) {
    if (held === undefined) return;
    const size = randomSize(ctx);
    ctx.begin(opIndex("realloc"));
    const ptr = ctx.call(`realloc(${held.ptr}, ${size})`, () => heap.realloc(held.ptr, size));
    if (ptr === undefined) return;
    checkPointer(ctx, `realloc(${held.ptr}, ${size})`, ptr, size, held.ptr);
    removeLive(ctx, held.ptr);
    ctx.live.push({ ptr, size });
  } else if (r < 68) {
    if (held === undefined) return;
    ctx.begin(opIndex("usableSize"));
    const usable = ctx.call(`usableSize(${held.ptr})`, () => heap.usableSize(held.ptr));
    const length = heap.buffer.byteLength;
    if (usable !== undefined && (!Number.isInteger(usable) || usable < 0 || held.ptr + usable > length)) {
      ctx.fail("bad-size", "usableSize", `usableSize(${held.ptr}) = ${usable}, memory is ${length} bytes`);
    }
  } else if (r < 74) {
    const name = ctx.pick(["check", "stats", "live", "leakReport", "flush"] as const);
    ctx.begin(opIndex(name));
    ctx.call(name, () => heap[name]());
  } else if (r < 77) {
    ctx.begin(opIndex("snapshot"));
    const snap = ctx.call("snapshot", () => heap.snapshot());
    if (snap !== undefined) ctx.snapshot = { snap, live: [...ctx.live] };
  } else if (r < 79) {
    const saved = ctx.snapshot;
    if (saved === undefined) return;
    ctx.begin(opIndex("restore"));
    const done = ctx.call("restore", () => {
      heap.restore(saved.snap);
      return true;
    });
    if (done) {
      ctx.live = [...saved.live];
      ctx.cells = [];
    }
  } else if (r < 81) {
    ctx.begin(opIndex("attach"));
    // A debug heap is attached in debug mode too: attached without it, its blocks start at the
    // strategy's pointers (before the red zones), so the pointers the model holds are no longer block
    // starts and a "stale" one can be a live block's real start (seed 601174: a false alarm).
    const options = ctx.debug ? { base: heap.base, debug: true } : { base: heap.base };
    const attached = ctx.call("attach", () => ctx.lib.Heap.attach(heap.memory, options));
    if (attached !== undefined) {
      ctx.heap = attached;
      ctx.cells = [];
      ctx.snapshot = undefined;
    }
  } else if (r < 86 && isArena(heap)) {
    arenaOp(ctx, heap);
  } else if (r < 91) {
    cellOp(ctx, heap);
  } else if (r < 93) {
    const size = ctx.pick([2 ** 31 - 8, 2 ** 31, 2 ** 32 - 8, 2 ** 30, 1 << 20]);
    ctx.begin(opIndex("huge malloc"));
    const ptr = ctx.call(`malloc(${size})`, () => heap.malloc(size));
    if (ptr !== undefined) ctx.live.push({ ptr: checkPointer(ctx, `malloc(${size})`, ptr, size), size });
  } else if (r < 95 && ctx.corruption.length > 0) {
    // More stray writes later in the run, once the first ones are in.
    corrupt(ctx);
  } else if (r >= 95) {
    badInput(ctx, heap, held);
  }
}

/** A careless caller's argument: every one must end in a coded error, or in a checked pointer. */
function badInput(ctx: Ctx, heap: Heap, held: Block | undefined): void {
  const any = heap as unknown as Record<string, (...args: unknown[]) => unknown>;
  const calls: [string, () => unknown, number][] = [
    ["malloc(1n)", () => any.malloc?.call(heap, 1n), 1],
    ["malloc(Symbol())", () => any.malloc?.call(heap, Symbol("size")), 1],
    ["malloc(-1)", () => heap.malloc(-1), 1],
    ["malloc(NaN)", () => heap.malloc(Number.NaN), 1],
    ["malloc(1.5)", () => heap.malloc(1.5), 2],
    ['malloc("8")', () => any.malloc?.call(heap, "8"), 8],
    ["malloc(8, 3)", () => heap.malloc(8, 3), 8],
    ["malloc(8, 2**20)", () => heap.malloc(8, 2 ** 20), 8],
    ["calloc(-1, 8)", () => heap.calloc(-1, 8), 0],
    ["calloc(2**20, 2**20)", () => heap.calloc(2 ** 20, 2 ** 20), 2 ** 40],
    ["free(-8)", () => heap.free(-8), -1],
    ["free(1.5)", () => heap.free(1.5), -1],
    ["free(NaN)", () => heap.free(Number.NaN), -1],
    ["free(ptr + 8)", () => heap.free((held?.ptr ?? 64) + 8), -1],
    ["realloc(ptr, -1)", () => heap.realloc(held?.ptr ?? 64, -1), 1],
    ["realloc(12345677, 8)", () => heap.realloc(12345677, 8), 8],
    ["usableSize(-1)", () => heap.usableSize(-1), -1],
    ["attach(new ArrayBuffer(0))", () => ctx.lib.Heap.attach(new ArrayBuffer(0)), -1],
  ];
  // A stale pointer: freed, and no block the caller holds starts there now.
  const stale = ctx.freed.find((f) => !ctx.live.some((b) => b.ptr === f.ptr));
  if (stale !== undefined) {
    calls.push([`free(stale ${stale.ptr})`, () => heap.free(stale.ptr), -1]);
    calls.push([`realloc(stale ${stale.ptr}, 100)`, () => heap.realloc(stale.ptr, 100), 100]);
  }
  const [name, fn, size] = calls[Math.floor(ctx.more() * calls.length)] ?? (calls[0] as never);
  ctx.begin(opIndex("bad input"));
  const result = ctx.call(name, fn);
  // Anything that succeeded and returned a pointer is a block the caller now holds: check it.
  if (typeof result === "number" && size >= 0) ctx.live.push({ ptr: checkPointer(ctx, name, result, size), size });
}

/** An arena, told by its methods (so the fuzzer does not depend on how strategies are exported). */
function isArena(heap: Heap): heap is HeapModule.ArenaHeap {
  const arena = heap as Partial<HeapModule.ArenaHeap>;
  return typeof arena.mark === "function" && typeof arena.reset === "function";
}

function arenaOp(ctx: Ctx, arena: HeapModule.ArenaHeap): void {
  if (ctx.rand() < 0.5) {
    ctx.begin(opIndex("arena.mark"));
    const mark = ctx.call("arena.mark", () => arena.mark());
    if (mark !== undefined) ctx.mark = { mark, live: [...ctx.live] };
    return;
  }
  const saved = ctx.rand() < 0.5 ? ctx.mark : undefined;
  ctx.begin(opIndex("arena.reset"));
  const done = ctx.call("arena.reset", () => {
    if (saved === undefined) arena.reset();
    else arena.reset(saved.mark);
    return true;
  });
  if (!done) return;
  // Blocks allocated after the mark are gone; those before it that the caller still holds stay.
  ctx.live = saved === undefined ? [] : ctx.live.filter((b) => b.ptr < saved.mark);
  ctx.cells = [];
}

function cellOp(ctx: Ctx, heap: Heap): void {
  ctx.begin(opIndex("cell"));
  const existing = ctx.cells.length > 0 && ctx.rand() < 0.5 ? ctx.cells.pop() : undefined;
  if (existing !== undefined) {
    const done = ctx.call("cell.free", () => {
      existing.cell.free();
      return true;
    });
    if (done) removeLive(ctx, existing.cell.ptr);
    return;
  }
  const length = 1 + ctx.int(32);
  const cell = ctx.call("alloc", () => heap.alloc(Float64Array, length));
  if (cell === undefined) return;
  ctx.live.push({ ptr: checkPointer(ctx, `alloc(Float64Array, ${length})`, cell.ptr, length * 8), size: length * 8 });
  ctx.cells.push({ cell, size: length * 8 });
}

/** A value worth writing into a metadata word: small, negative, huge, a pointer, a near miss. */
function nastyWord(ctx: Ctx, old: number): number {
  const heap = ctx.heap as Heap;
  const other = ctx.live.length > 0 ? ctx.pick(ctx.live).ptr : ctx.minPtr;
  const length = heap.buffer.byteLength;
  return ctx.pick([
    0,
    -1,
    -8,
    1,
    8,
    16,
    0x7ffffff8,
    -0x80000000,
    (ctx.rand() * 2 ** 32) | 0,
    length,
    length + 64,
    other,
    other - 8,
    other + 8,
    ctx.minPtr - 8,
    heap.base,
    old ^ (1 << ctx.int(32)),
    old + 8,
    old - 8,
    old | LAYOUT.leftFreeFlag,
    old + 0x1000,
  ]);
}

/** One stray write: a byte or a 32-bit word, into a place picked from the regions a buggy writer hits. */
/** Keeps a copy of a just-freed block's header and first words (taken from the second stream only). */
function rememberStale(ctx: Ctx, block: Block): void {
  if (ctx.third() >= 0.3) return;
  const buffer = (ctx.heap as Heap).buffer;
  const at = block.ptr - LAYOUT.blockHeader;
  if (at < 0 || at + 32 > buffer.byteLength) return;
  ctx.stale.push({ at, bytes: new Uint8Array(buffer.slice(at, at + 32)) });
  if (ctx.stale.length > 8) ctx.stale.shift();
}

/** Keeps a copy of a just-allocated block's header (from the fourth stream only). */
function rememberLive(ctx: Ctx, ptr: number): void {
  if (ctx.fourth() >= 0.3) return;
  const buffer = (ctx.heap as Heap).buffer;
  const at = ptr - LAYOUT.blockHeader;
  if (at < 0 || at + 16 > buffer.byteLength) return;
  ctx.staleLive.push({ at, bytes: new Uint8Array(buffer.slice(at, at + 16)) });
  if (ctx.staleLive.length > 8) ctx.staleLive.shift();
}

/**
 * A live block's old header (and first payload words) written back once the block may be gone or
 * resized: a block laid again at the same address, after a rollback or a merge, now carries a header
 * that claims the old size.
 */
function restoreLive(ctx: Ctx): void {
  const old = ctx.staleLive[Math.floor(ctx.fourth() * ctx.staleLive.length)];
  const buffer = (ctx.heap as Heap).buffer;
  if (old === undefined || old.at + old.bytes.length > buffer.byteLength) return;
  new Uint8Array(buffer).set(old.bytes, old.at);
  ctx.note("corruption", `stale copy of a live header (16 bytes) written back at ${old.at}`);
}

/**
 * A stale copy written back: a freed block's old header and links, valid once, restored over whatever
 * lives there now (a module that cached the bytes, or a use-after-free write of old contents).
 */
function restoreStale(ctx: Ctx): void {
  const old = ctx.stale[Math.floor(ctx.third() * ctx.stale.length)];
  const buffer = (ctx.heap as Heap).buffer;
  if (old === undefined || old.at + old.bytes.length > buffer.byteLength) return;
  new Uint8Array(buffer).set(old.bytes, old.at);
  ctx.note("corruption", `stale copy of 32 bytes written back at ${old.at} (a freed block's old header and links)`);
}

function corrupt(ctx: Ctx): void {
  ctx.begin(opIndex("corrupt"));
  if (!ctx.corruptMemory) return;
  // From the third stream, so the first two (and what old seeds hit) are unchanged.
  if (ctx.third() < 0.15) restoreStale(ctx);
  // From the fourth, for the same reason.
  if (ctx.fourth() < 0.15) restoreLive(ctx);
  const heap = ctx.heap as Heap;
  const base = heap.base;
  const length = heap.buffer.byteLength;
  const held = ctx.live.length > 0 ? ctx.pick(ctx.live) : undefined;
  const gone = ctx.freed.length > 0 ? ctx.pick(ctx.freed) : undefined;
  const r = ctx.int(9);
  let where: string;
  let at: number;
  if (r === 0) [where, at] = ["heap header", base + ctx.int(LAYOUT.headerBytes)];
  else if (r === 1) {
    const word = ctx.pick(LAYOUT.stateWords);
    [where, at] = [`header word ${word}`, base + 4 * word];
  } else if (r === 2) {
    const control = ctx.minPtr - base - LAYOUT.headerBytes;
    [where, at] = ["strategy control words", base + LAYOUT.headerBytes + ctx.int(Math.max(1, control))];
  } else if (r === 3 && held) [where, at] = ["header before a live block", held.ptr - LAYOUT.blockHeader + ctx.int(8)];
  else if (r === 4 && held) [where, at] = ["past a live block's end", held.ptr + Math.max(1, held.size) + ctx.int(16)];
  else if (r === 5 && gone) [where, at] = ["a freed block's first words", gone.ptr - LAYOUT.blockHeader + ctx.int(24)];
  else if (r === 6 && gone) [where, at] = ["a freed block's last word", gone.ptr + Math.max(16, gone.size) - 4];
  else if (r === 7 && held) {
    forgeBackPointer(ctx, held);
    return;
  } else [where, at] = ["anywhere", ctx.int(length)];
  // Raw writes go through the buffer itself, as a WebAssembly module's or a stale view's would.
  const u8 = new Uint8Array(heap.buffer);
  if (ctx.rand() < 0.35) {
    const value = ctx.pick([0, 0xff, ctx.int(256), (u8[at] ?? 0) ^ (1 << ctx.int(8))]);
    u8[at] = value;
    ctx.note("corruption", `byte ${value} at ${at} (${where})`);
    return;
  }
  at &= -4;
  if (at + 4 > length) at = length - 4;
  const view = new DataView(heap.buffer);
  const value = nastyWord(ctx, view.getInt32(at, true));
  view.setInt32(at, value, true);
  ctx.note("corruption", `word ${value} at ${at} (${where})`);
}

/**
 * The first attack of the issue: an overflow past a live block sets the next header's "left is free"
 * flag, and the block's own last word, read as a back pointer, names another live block.
 */
function forgeBackPointer(ctx: Ctx, held: Block): void {
  const heap = ctx.heap as Heap;
  const view = new DataView(heap.buffer);
  const end = (held.ptr + Math.max(1, held.size) + 7) & -8;
  if (end + 4 > heap.buffer.byteLength) return;
  const target = ctx.live.length > 0 ? ctx.pick(ctx.live).ptr - LAYOUT.blockHeader : ctx.minPtr - LAYOUT.blockHeader;
  view.setInt32(end - 4, target, true);
  view.setInt32(end, view.getInt32(end, true) | LAYOUT.leftFreeFlag, true);
  ctx.note("corruption", `back pointer ${target} at ${end - 4} and left-free flag at ${end} (forged merge)`);
}

/** Build, use, corrupt, use again: the invariant must hold throughout. */
function heapCase(ctx: Ctx): void {
  ctx.begin(opIndex("setup"));
  const built = ctx.call("build", () => buildHeap(ctx));
  if (built === undefined) return;
  const { heap, make } = built;
  // Red zones only move pointers up: a twin without debug gives the lowest pointer a block can have.
  const minPtr = ctx.call("build", () => make(true).malloc(1));
  if (minPtr === undefined) return;
  ctx.minPtr = minPtr;
  ctx.heap = heap;
  const setup = 5 + ctx.int(40);
  for (let i = 0; i < setup; i++) randomOp(ctx);
  const writes = 1 + ctx.int(3);
  for (let i = 0; i < writes; i++) corrupt(ctx);
  const ops = 10 + ctx.int(60);
  for (let i = 0; i < ops; i++) randomOp(ctx);
}

/** Heap.attach on random bytes that look like a header, or on a truncated copy of a real heap. */
function attachCase(ctx: Ctx): void {
  const { Heap } = ctx.lib;
  const truncated = ctx.rand() < 0.5;
  ctx.begin(opIndex(truncated ? "attach truncated" : "attach random"));
  const names = ["tlsf", "arena", "pool"] as const;
  const strategy = ctx.pick(names);
  const real = Heap.fixed(16 * 1024, { strategy, zero: "none" });
  const held: Block[] = [];
  for (let i = 0; i < 20; i++) {
    const size = strategy === "pool" ? 1 + ctx.int(64) : randomSize(ctx) % 512;
    held.push({ ptr: real.malloc(size), size });
  }
  for (const block of held.splice(0, ctx.int(10))) real.free(block.ptr);
  let bytes: Uint8Array;
  let kind: string = strategy;
  if (truncated) {
    // Mostly whole words; sometimes a ragged length, which attach must refuse with a code too.
    const cut = 64 + ctx.int(real.buffer.byteLength - 64);
    bytes = new Uint8Array(real.buffer.slice(0, ctx.rand() < 0.8 ? cut & -8 : cut));
    ctx.note(
      "config",
      `attach to a truncated copy (${bytes.length} of ${real.buffer.byteLength} bytes) of a ${strategy} heap`,
    );
  } else {
    bytes = new Uint8Array(64 + ctx.int(16 * 1024));
    for (let i = 0; i < bytes.length; i++) bytes[i] = ctx.int(256);
    const words = new Int32Array(bytes.buffer, 0, 16);
    words[0] = LAYOUT.magic;
    words[1] = LAYOUT.version;
    words[2] = ctx.pick(LAYOUT.strategies);
    if (ctx.rand() < 0.5) words[4] = 0; // an unlocked lock word: a shared heap would otherwise wait on it
    kind = names[(words[2] as number) - 1] ?? "tlsf";
    ctx.note("config", `attach to ${bytes.length} random bytes with a valid-looking ${kind} header`);
  }
  if (!ctx.corruptMemory) {
    [bytes, kind] = [new Uint8Array(real.buffer.slice(0)), strategy];
    ctx.note("config", `attach to a whole copy of a ${strategy} heap (control run)`);
  }
  ctx.minPtr = Heap.fixed(16 * 1024, { strategy: kind as (typeof names)[number] }).malloc(1);
  const attached = ctx.call("attach", () => Heap.attach(bytes.buffer));
  if (attached === undefined) return;
  ctx.heap = attached;
  ctx.live = truncated || !ctx.corruptMemory ? held : [];
  if (ctx.corruptMemory) ctx.note("corruption", truncated ? "truncated" : "random bytes");
  const ops = 10 + ctx.int(40);
  for (let i = 0; i < ops; i++) randomOp(ctx);
}

/** The layout facts, for the worker (which gets the functions as text). */
export const LAYOUT_FOR_WORKER: typeof LAYOUT = LAYOUT;

/** Every function corruptionCase calls, shipped to the worker as source text. */
export const WORKER_FUNCTIONS: readonly { toString(): string }[] = [
  makeRandom,
  isArena,
  rememberStale,
  restoreStale,
  rememberLive,
  restoreLive,
  badInput,
  FuzzStop,
  describeError,
  fuzzContext,
  checkPointer,
  opIndex,
  removeLive,
  randomSize,
  buildHeap,
  randomOp,
  arenaOp,
  cellOp,
  nastyWord,
  corrupt,
  forgeBackPointer,
  heapCase,
  attachCase,
];
