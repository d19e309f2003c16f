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

  // A heap over a WebAssembly memory runs memkit's WebAssembly engine here (not the TypeScript
  // fallback), and answers the same way.
  const wasmHeap = Heap.over(new WebAssembly.Memory({ initial: 1, maximum: 16 }));
  const none = () => 0;
  const engine = wasmHeap.wasmAllocator({ malloc: none, free: none, calloc: none, realloc: none }, () => {});
  check(engine !== undefined, "the WebAssembly engine compiled in this runtime");
  const q = wasmHeap.malloc(100);
  const q2 = wasmHeap.realloc(q, 20_000);
  check(codeOf(() => wasmHeap.free(q2 + 8)) === "ERR_MEMKIT_INVALID_POINTER", "the engine's errors are typed");
  wasmHeap.free(q2);
  check(codeOf(() => wasmHeap.free(q2)) === "ERR_MEMKIT_DOUBLE_FREE", "the engine catches a double free");
  wasmHeap.check();

  const arena = Heap.fixed(4096, { strategy: "arena" });
  arena.malloc(100);
  heap.check();
  arena.check();
  return { doubleFree, live: heap.stats().liveBlocks };
}
