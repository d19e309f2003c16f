import { InvalidArgumentError, InvalidSizeError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";
import type { Backing } from "./backing.js";
import {
  ALIGN,
  FLAG_SHARED,
  FLAG_ZERO_ALLOC,
  FLAG_ZERO_FREE,
  H_BASE,
  H_END,
  H_END_CHECK,
  H_FLAGS,
  H_HEADER_SUM,
  H_MAGIC,
  H_MAX_END,
  H_PARAM,
  H_SECRET,
  H_STRATEGY,
  H_VERSION,
  headerSum,
  LAYOUT_VERSION,
  MAGIC,
  MAX_OFFSET,
  wordCheck,
} from "./layout.js";
import type { HeapOptions } from "./options.js";

/**
 * Validates every option, then writes a new heap's header into `backing` (see layout.ts).
 * Validation comes first so that bad input never touches the caller's memory.
 */
export function writeHeader(
  backing: Backing,
  options: HeapOptions,
  strategy: { readonly strategyId: number; readonly controlBytes: number },
): { base: number; end: number } {
  const base = checkSize(options.base ?? 0, "base", 0, MAX_OFFSET);
  if (base % ALIGN !== 0) throw new InvalidSizeError(`base must be a multiple of ${ALIGN}, got ${base}`, base);
  const zero = options.zero ?? "alloc";
  if (zero !== "alloc" && zero !== "free" && zero !== "none") {
    throw new InvalidArgumentError(`zero must be "alloc", "free" or "none", got ${String(zero)}`);
  }
  const slotSize = checkSize(options.slotSize ?? 64, "slotSize", 1, 1 << 24);
  const requestedEnd =
    options.maxBytes === undefined ? MAX_OFFSET : base + checkSize(options.maxBytes, "maxBytes", 0, MAX_OFFSET);
  const maxEnd = Math.min(MAX_OFFSET, backing.maxByteLength, requestedEnd) & -ALIGN;
  const length = backing.buffer.byteLength;
  const minimum = base + strategy.controlBytes + 64;
  if (length < minimum) {
    throw new InvalidSizeError(`The memory holds ${length} bytes; this heap needs at least ${minimum}`, length);
  }
  const words = new Int32Array(backing.buffer, 0, length >> 2);
  const h = base >> 2;
  const end = Math.min(length, maxEnd) & -ALIGN;
  words.fill(0, h, h + (strategy.controlBytes >> 2));
  words[h + H_MAGIC] = MAGIC;
  words[h + H_VERSION] = LAYOUT_VERSION;
  words[h + H_STRATEGY] = strategy.strategyId;
  words[h + H_FLAGS] =
    (zero === "alloc" ? FLAG_ZERO_ALLOC : zero === "free" ? FLAG_ZERO_FREE : 0) | (backing.shared ? FLAG_SHARED : 0);
  words[h + H_BASE] = base;
  words[h + H_END] = end;
  words[h + H_MAX_END] = maxEnd;
  // Any value but 0: a zeroed header must never look keyed.
  words[h + H_SECRET] = (Math.random() * 0x7fffffff) | 0 || 0x2545f491;
  words[h + H_PARAM] = slotSize;
  words[h + H_HEADER_SUM] = headerSum(words, h);
  words[h + H_END_CHECK] = wordCheck(H_END, end, words[h + H_SECRET] as number);
  return { base, end };
}
