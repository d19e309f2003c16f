import type { CAllocatorFunctions } from "../heap/index.js";
import type { Boundary } from "./boundary.js";

/**
 * The largest size memkit's heap can ever hand out (offsets are signed 32-bit). Anything larger,
 * `SIZE_MAX` included, is a NULL for C, never an exception.
 */
const C_MAX = 0x7fff_fff8;

/** Allocation failures C sees as NULL; any other error is a bug to report to JavaScript. */
const FAILURES = new Set(["ERR_MEMKIT_OUT_OF_MEMORY", "ERR_MEMKIT_INVALID_SIZE", "ERR_MEMKIT_ALLOC_FAILED"]);

function failed(b: Boundary, error: unknown): number {
  b.failedAllocations++;
  if (!FAILURES.has((error as { code?: string } | undefined)?.code ?? "")) b.record(error);
  return 0;
}

function refused(b: Boundary): number {
  b.failedAllocations++;
  return 0;
}

/** A bad free from C: recorded (C carries on), or thrown at once under the "trap" policy. */
function badFree(b: Boundary, error: unknown): void {
  if (b.policy === "trap") throw error;
  b.record(error);
}

/**
 * An error the heap's WebAssembly engine found during a call from C (a corrupt heap): C gets
 * NULL or carries on, as for a bad free; recorded, or thrown at once under the "trap" policy.
 */
export function reportFromC(b: Boundary, error: unknown): void {
  badFree(b, error);
}

function allocate(b: Boundary, n: number): number {
  // The memory grew while no memkit code ran: the module grew it (or JavaScript did, see memoryMoved).
  if (b.known.byteLength === 0) b.memoryMoved(false);
  if (b.broken !== undefined) return refused(b);
  let ptr: number;
  try {
    ptr = b.allocator === undefined ? b.heap.tryMalloc(n) : b.allocator.tryMalloc(n);
  } catch (error) {
    return failed(b, error);
  }
  if (b.known.byteLength === 0) b.memoryMoved(true);
  if (ptr === 0) b.failedAllocations++;
  return ptr;
}

/**
 * malloc/free/calloc/realloc for C, with C's rules: every failure (too large, `SIZE_MAX`, out of
 * memory, over a budget, an injected fault) is NULL; `free(NULL)` does nothing; a double or
 * invalid free is recorded on `b` and C carries on (the error is thrown when control returns to
 * JavaScript), or thrown at once under the "trap" policy. No exception ever unwinds C otherwise.
 */
export function cAllocatorImports(b: Boundary): CAllocatorFunctions {
  // WebAssembly passes i32 as signed: `>>> 0` reads a pointer or size as the unsigned value C meant.
  return {
    malloc: (size) => {
      const n = size >>> 0;
      return n > C_MAX ? refused(b) : allocate(b, n);
    },
    free: (ptr) => {
      if (ptr === 0 || b.broken !== undefined) return;
      try {
        if (b.allocator === undefined) b.heap.free(ptr >>> 0);
        else b.allocator.free(ptr >>> 0);
      } catch (error) {
        badFree(b, error);
      }
    },
    calloc: (count, size) => {
      const n = (count >>> 0) * (size >>> 0);
      if (n > C_MAX) return refused(b);
      const ptr = allocate(b, n);
      if (ptr !== 0) b.heap.u8.fill(0, ptr, ptr + n);
      return ptr;
    },
    realloc: (ptr, size) => {
      const n = size >>> 0;
      if (ptr === 0) return n > C_MAX ? refused(b) : allocate(b, n);
      if (b.known.byteLength === 0) b.memoryMoved(false);
      if (n > C_MAX || b.broken !== undefined) return refused(b);
      let moved: number;
      try {
        moved = b.allocator === undefined ? b.heap.realloc(ptr >>> 0, n) : b.allocator.tryRealloc(ptr >>> 0, n);
      } catch (error) {
        const code = (error as { code?: string } | undefined)?.code ?? "";
        if (FAILURES.has(code)) return failed(b, error);
        badFree(b, error);
        return refused(b);
      }
      if (b.known.byteLength === 0) b.memoryMoved(true);
      if (moved === 0) b.failedAllocations++;
      return moved;
    },
  };
}
