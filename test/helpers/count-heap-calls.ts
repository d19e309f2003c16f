import type { Heap } from "memkit/heap";

/**
 * Counts the calls made into a heap's JavaScript allocation methods from now on, by wrapping them
 * on the object: C's allocations that stay in WebAssembly (memkit's engine) make none.
 */
export function countJavaScriptCalls(heap: Heap): { calls: number } {
  const counter = { calls: 0 };
  const target = heap as unknown as Record<string, (...args: number[]) => number>;
  for (const name of ["malloc", "tryMalloc", "free", "realloc", "calloc"]) {
    const method = (target[name] as (...args: number[]) => number).bind(heap);
    target[name] = (...args: number[]) => {
      counter.calls++;
      return method(...args);
    };
  }
  return counter;
}
