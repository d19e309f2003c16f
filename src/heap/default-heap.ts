import { Heap } from "./heap.js";

let shared: Heap | undefined;

/**
 * The process-wide default heap (the "global static buffer" mode), created on first use: a
 * growable TLSF heap of 1 MiB up to 1 GiB.
 *
 * @returns The same heap on every call.
 * @example
 * ```ts
 * import { defaultHeap } from "memkit/heap";
 * const p = defaultHeap().malloc(64);
 * ```
 */
export function defaultHeap(): Heap {
  shared ??= Heap.create();
  return shared;
}
