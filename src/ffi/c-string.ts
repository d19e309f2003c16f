import type { Heap } from "../heap/index.js";
import { InvalidArgumentError } from "../internal/errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });
/** Below this many bytes a plain loop beats TextEncoder/TextDecoder's per-call cost (measured in bench/ffi.bench.ts). */
const SHORT = 128;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range deliberately starts at U+0001
const ASCII = /^[\x01-\x7f]*$/;

/**
 * Writes `text` into `heap` as a NUL-terminated UTF-8 C string. The caller owns the block: free it
 * with `heap.free`, or hand it to C code that frees it with the same allocator.
 *
 * @param heap The heap shared with the C side.
 * @param text The string (a NUL inside it would end the C string early, so it is refused).
 * @returns The pointer.
 * @throws {OutOfMemoryError} ERR_MEMKIT_OUT_OF_MEMORY when it does not fit.
 * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for a non-string or a string with NUL.
 * @example
 * ```ts
 * const ptr = writeCString(heap, "héllo");
 * exports.take_string(ptr); // C frees it
 * ```
 */
export function writeCString(heap: Heap, text: string): number {
  if (typeof text !== "string") throw new InvalidArgumentError(`Expected a string, got ${typeof text}`);
  if (text.includes("\0")) throw new InvalidArgumentError("A C string cannot contain NUL characters");
  const length = text.length;
  if (length < SHORT && ASCII.test(text)) {
    const ptr = heap.malloc(length + 1);
    const u8 = heap.u8;
    for (let i = 0; i < length; i++) u8[ptr + i] = text.charCodeAt(i);
    u8[ptr + length] = 0;
    return ptr;
  }
  const bytes = Buffer.byteLength(text, "utf8");
  const ptr = heap.malloc(bytes + 1);
  const u8 = heap.u8;
  if (u8.buffer instanceof SharedArrayBuffer) u8.set(encoder.encode(text), ptr);
  else encoder.encodeInto(text, u8.subarray(ptr, ptr + bytes));
  u8[ptr + bytes] = 0;
  return ptr;
}

/**
 * Reads the NUL-terminated UTF-8 string at `ptr` (the memory stays owned by whoever owns it).
 *
 * @param heap The heap (or any heap over the same memory).
 * @param ptr Pointer to the first byte.
 * @param maxBytes Stop looking for the NUL after this many bytes. @defaultValue the end of memory
 * @returns The string.
 * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT when `ptr` is 0 or no NUL is found.
 * @example
 * ```ts
 * const text = readCString(heap, exports.version());
 * ```
 */
export function readCString(heap: Heap, ptr: number, maxBytes?: number): string {
  if (ptr === 0) throw new InvalidArgumentError("Cannot read a C string at NULL");
  const u8 = heap.u8;
  const limit = maxBytes === undefined ? u8.length : Math.min(u8.length, ptr + maxBytes);
  const end = u8.indexOf(0, ptr);
  if (end < 0 || end >= limit) throw new InvalidArgumentError(`No NUL terminator found after pointer ${ptr}`);
  if (end - ptr < SHORT) {
    let text = "";
    let i = ptr;
    for (; i < end; i++) {
      const byte = u8[i] as number;
      if (byte >= 0x80) break;
      text += String.fromCharCode(byte);
    }
    if (i === end) return text;
  }
  const view = u8.subarray(ptr, end);
  // TextDecoder refuses views of shared memory: copy those first.
  return decoder.decode(u8.buffer instanceof SharedArrayBuffer ? view.slice() : view);
}

/**
 * Reads the C string at `ptr` and frees it: for strings C allocated and handed over.
 *
 * @param heap The heap the string was allocated from.
 * @param ptr Pointer from C (0 gives undefined, for C functions that return NULL on failure).
 * @returns The string, or undefined for NULL.
 * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER when `ptr` is not a live block.
 * @example
 * ```ts
 * const greeting = takeCString(heap, exports.make_greeting(name));
 * ```
 */
export function takeCString(heap: Heap, ptr: number): string | undefined {
  if (ptr === 0) return undefined;
  const size = heap.usableSize(ptr);
  const text = readCString(heap, ptr, size);
  heap.free(ptr);
  return text;
}
