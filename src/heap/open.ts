import { InvalidArgumentError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";
import { Backing, type HeapMemory, newSharedBuffer, newWasmMemory } from "./backing.js";
import { checkHeaderWords, type HeapBase } from "./base.js";
import { engineAvailable } from "./engine.js";
import { HeapCorruptionError, LayoutVersionError, NotAHeapError } from "./errors.js";
import { writeHeader } from "./header.js";
import {
  ALIGN,
  FLAG_SHARED,
  FLAG_ZERO_ALLOC,
  FLAG_ZERO_FREE,
  H_BASE,
  H_END,
  H_END_CHECK,
  H_FLAGS,
  H_MAGIC,
  H_MAX_END,
  H_SECRET,
  H_STRATEGY,
  H_VERSION,
  LAYOUT_VERSION,
  MAGIC,
  MAX_OFFSET,
  wordCheck,
} from "./layout.js";
import type { HeapInstanceOptions, HeapOptions } from "./options.js";
import { STRATEGIES, strategyById } from "./strategies.js";

/**
 * Opening heaps: formatting a new one in new or given memory, and attaching to one that exists.
 * `Heap`'s static methods are these functions.
 */

const MIB = 1024 * 1024;

function format(backing: Backing, options: HeapOptions, dirty: boolean): HeapBase {
  const name = options.strategy ?? "tlsf";
  const ctor = Object.hasOwn(STRATEGIES, name) ? STRATEGIES[name] : undefined;
  if (ctor === undefined) {
    throw new InvalidArgumentError(`Unknown strategy ${String(options.strategy)}: use "tlsf", "arena" or "pool"`);
  }
  const { base, end } = writeHeader(backing, options, ctor);
  const heap = new ctor(backing, base, options);
  heap.formatRegion(end, dirty);
  return heap;
}

/** `Heap.create`: new memory that grows on demand. */
export function createHeap(options: HeapOptions): HeapBase {
  const initial = checkSize(options.initialBytes ?? MIB, "initialBytes", 4096, MAX_OFFSET);
  const max = checkSize(options.maxBytes ?? Math.max(initial, 1024 * MIB), "maxBytes", initial, MAX_OFFSET);
  const backing = options.shared
    ? new Backing(newSharedBuffer(initial, max))
    : (engineMemory(initial, max, options) ?? new Backing(new ArrayBuffer(initial), max));
  return format(backing, { ...options, maxBytes: max }, false);
}

/**
 * Whether a new heap with these options would run the WebAssembly engine if its memory were a
 * WebAssembly.Memory: TLSF, not shared, no debug guard or thread cache, not opted out, and the
 * engine compiles here.
 */
function runsEngine(options: HeapOptions): boolean {
  return (
    (options.strategy ?? "tlsf") === "tlsf" &&
    options.engine !== "typescript" &&
    options.debug !== true &&
    options.trackSites !== true &&
    options.detectLeaks !== true &&
    options.cache !== true &&
    engineAvailable()
  );
}

/**
 * A WebAssembly memory for a heap that would run the engine, or undefined (then an ArrayBuffer):
 * also when the engine refuses to make one (no address space left for another memory).
 */
function engineMemory(bytes: number, maxBytes: number, options: HeapOptions): Backing | undefined {
  if (!runsEngine(options)) return undefined;
  try {
    return new Backing(newWasmMemory(bytes, maxBytes));
  } catch {
    return undefined;
  }
}

/** `Heap.fixed`: one new buffer that never grows. */
export function fixedHeap(bytes: number, options: HeapOptions): HeapBase {
  const size = checkSize(bytes, "bytes", 256, MAX_OFFSET);
  // A WebAssembly memory comes in 64 KiB pages (the heap still ends at `bytes`, its maxBytes), so
  // a heap smaller than a page keeps an ArrayBuffer of its own size.
  const backing = (size >= 65536 ? engineMemory(size, size, options) : undefined) ?? new Backing(new ArrayBuffer(size));
  return format(backing, { ...options, maxBytes: size }, false);
}

/** `Heap.over`: a new heap in memory the caller provides (which may hold old bytes). */
export function overHeap(memory: HeapMemory, options: HeapOptions): HeapBase {
  return format(new Backing(memory), options, true);
}

/**
 * `Heap.attach`: reopens the heap in `memory` after validating its whole header against the
 * buffer, so that no later operation can be steered outside the memory by a header word: magic,
 * version, strategy, flags, base, end, maximum, the constant words' checksum, then the strategy's
 * own control words.
 */
export function attachHeap(memory: HeapMemory, options: HeapInstanceOptions): HeapBase {
  const backing = new Backing(memory);
  const base = checkSize(options.base ?? 0, "base", 0, MAX_OFFSET);
  const length = backing.buffer.byteLength;
  if (base % ALIGN !== 0 || length < base + 128) throw new NotAHeapError(`the memory is too small at base ${base}`);
  const words = new Int32Array(backing.buffer, 0, length >> 2);
  const h = base >> 2;
  if (words[h + H_MAGIC] !== MAGIC) throw new NotAHeapError(`no memkit magic number at offset ${base}`);
  if (words[h + H_VERSION] !== LAYOUT_VERSION)
    throw new LayoutVersionError(words[h + H_VERSION] as number, LAYOUT_VERSION);
  const ctor = strategyById(words[h + H_STRATEGY] as number);
  if (ctor === undefined) throw new NotAHeapError(`unknown strategy id ${words[h + H_STRATEGY]}`);
  const bad = (word: number, what: string): never => {
    throw new HeapCorruptionError((h + word) * 4, what);
  };
  const flags = words[h + H_FLAGS] as number;
  if ((flags & ~(FLAG_ZERO_ALLOC | FLAG_ZERO_FREE | FLAG_SHARED)) !== 0 || (flags & 3) === 3)
    bad(H_FLAGS, `unknown flags ${flags}`);
  if (words[h + H_BASE] !== base) bad(H_BASE, `the header says base ${words[h + H_BASE]}, it was found at ${base}`);
  const maxEnd = words[h + H_MAX_END] as number;
  if (maxEnd > MAX_OFFSET) bad(H_MAX_END, `the maximum end ${maxEnd} is impossible`);
  const secret = words[h + H_SECRET] as number;
  checkHeaderWords(words, h, secret);
  // The end word and its check word move when a thread grows shared memory: read here, without the
  // lock, they can be torn or newer than `length` (seen: 1 in 10 runs of 4 workers attaching while
  // others grow). For shared memory they are checked below, under the lock.
  if (!backing.shared) {
    const end = words[h + H_END] as number;
    const start = base + ctor.controlBytes;
    if ((end & 7) !== 0 || end < start + 16 || end > length) {
      bad(H_END, `the heap ends at ${end}, outside the ${length}-byte memory (a truncated copy?)`);
    }
    if (maxEnd < end) bad(H_MAX_END, `the maximum end ${maxEnd} is below the end ${end}`);
    if (words[h + H_END_CHECK] !== wordCheck(H_END, end, secret))
      bad(H_END, `the end word ${end} does not match its check word`);
  }
  const heap = new ctor(backing, base, options);
  // Under the lock: other threads may be changing the control words right now. Taking it
  // re-validates the end word against the memory and its check word (fresh views, see `refresh`).
  heap.checkAttached();
  return heap;
}
