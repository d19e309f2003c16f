// The README example of `memkit/heap`, runnable everywhere. `using` is spelled out with
// Symbol.dispose because Node 20 does not parse `using` yet.
import { Heap } from "memkit/heap";
import { check, codeOf } from "./check.mjs";

export default async function heapExample() {
  const heap = Heap.create({ maxBytes: 64 << 20 });
  const p = heap.malloc(256);
  heap.u8.set([1, 2, 3], p);
  check(heap.u8[p + 2] === 3, "bytes written at the pointer read back");
  heap.free(p);

  const samples = heap.alloc(Float64Array, 1024);
  try {
    samples.view.fill(0.5);
    check(samples.view.reduce((a, b) => a + b, 0) === 512, "the cell's view is 1024 doubles");
  } finally {
    samples[Symbol.dispose]();
  }
  const doubleFree = codeOf(() => heap.free(p));
  check(doubleFree === "ERR_MEMKIT_DOUBLE_FREE", `a double free is typed, got ${doubleFree}`);
  const useAfterFree = codeOf(() => samples.view);
  check(useAfterFree !== "did not throw", "a disposed cell refuses use");

  const arena = Heap.fixed(4096, { strategy: "arena" });
  arena.malloc(100);
  heap.check();
  arena.check();
  return { doubleFree, live: heap.stats().liveBlocks };
}
