import { existsSync } from "node:fs";
import { Heap } from "memkit/heap";
import { describe, expect, it } from "vitest";
import { CC1_TRACE, loadTrace, peakLiveBytes, replay } from "../helpers/trace.js";

describe.skipIf(!existsSync(CC1_TRACE))("replay of the real cc1 allocation trace", () => {
  it.each(["tlsf", "arena"] as const)(
    "%s: leaves zero live blocks after freeing survivors and checks clean",
    (strategy) => {
      const trace = loadTrace(CC1_TRACE);
      expect(trace.events).toBe(24_754);
      const heap = Heap.create({ strategy, initialBytes: 64 * 1024, maxBytes: 64 << 20 });
      const table = replay(trace, {
        malloc: (n) => heap.malloc(n),
        free: (p) => heap.free(p),
        realloc: (p, n) => heap.realloc(p, n),
        touch: (p) => {
          heap.u8[p] = 1;
        },
      });
      heap.check();
      const peak = peakLiveBytes(trace);
      expect(heap.stats().peakUsed).toBeGreaterThanOrEqual(peak);
      for (const ptr of table) if (ptr !== 0) heap.free(ptr);
      heap.check();
      expect(heap.stats().liveBlocks).toBe(0);
      if (strategy === "tlsf") {
        expect(heap.stats().freeBlocks).toBe(1);
        // Fragmentation stays low on a real program: high water within 10% of peak live bytes.
        expect(heap.stats().highWater / peak).toBeLessThan(1.1);
      }
    },
  );
});
