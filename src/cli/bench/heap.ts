import { Heap } from "../../heap/index.js";
import { medianNsPerOp, type QuickBench, withRatios } from "./quick-bench.js";

const OPS = 100_000;

/** Random 64..1024-byte churn with up to 1024 live blocks, the same sequence for every contender. */
function churn(malloc: (n: number) => number, free: (p: number) => void): () => void {
  const live = new Float64Array(1024);
  return () => {
    let x = 12345;
    for (let i = 0; i < OPS; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const slot = (x >>> 0) & 1023;
      const ptr = live[slot] as number;
      if (ptr !== 0) {
        free(ptr);
        live[slot] = 0;
      } else live[slot] = malloc(64 + ((x >>> 12) & 960));
    }
    for (let i = 0; i < live.length; i++) {
      if (live[i] !== 0) free(live[i] as number);
      live[i] = 0;
    }
  };
}

/** `memkit bench heap`: malloc/free churn, memkit TLSF vs `new Uint8Array(n)`. */
export const heapQuickBench: QuickBench = {
  module: "heap",
  title: "malloc/free churn, 64..1024 B, <= 1024 live (ns per operation)",
  run(_io, rounds) {
    const heap = Heap.fixed(8 << 20, { zero: "none" });
    const zeroed = Heap.fixed(8 << 20);
    const arrays: (Uint8Array | undefined)[] = [undefined];
    const freeSlots: number[] = [];
    const allocArray = (n: number) => {
      const slot = freeSlots.pop() ?? arrays.length;
      arrays[slot] = new Uint8Array(n);
      return slot;
    };
    const freeArray = (slot: number) => {
      arrays[slot] = undefined;
      freeSlots.push(slot);
    };
    return withRatios([
      {
        name: "memkit tlsf (zero: none)",
        nsPerOp: medianNsPerOp(
          churn(
            (n) => heap.malloc(n),
            (p) => heap.free(p),
          ),
          OPS,
          rounds,
        ),
      },
      {
        name: "memkit tlsf (zero: alloc)",
        nsPerOp: medianNsPerOp(
          churn(
            (n) => zeroed.malloc(n),
            (p) => zeroed.free(p),
          ),
          OPS,
          rounds,
        ),
      },
      { name: "new Uint8Array(n)", nsPerOp: medianNsPerOp(churn(allocArray, freeArray), OPS, rounds) },
    ]);
  },
};
