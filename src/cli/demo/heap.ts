import { Heap, type TlsfHeap } from "../../heap/index.js";
import { isMemkitError } from "../../internal/errors.js";
import { paint } from "../io.js";
import { formatBytes } from "../table.js";
import type { DemoSection } from "./section.js";

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return "(no error)";
  } catch (error) {
    return isMemkitError(error) ? error.code : String(error);
  }
}

/** `memkit demo heap`: malloc/free, cells with `using`, safety checks, growth and stats. */
export const heapSection: DemoSection = {
  name: "heap",
  title: "malloc/free inside one buffer",
  async run(io) {
    const heap = Heap.create({ initialBytes: 64 * 1024, maxBytes: 16 << 20, trackSites: true }) as TlsfHeap;
    const p = heap.malloc(100);
    heap.u8.set([1, 2, 3], p);
    io.out(`malloc(100) -> pointer ${p}; usable size ${heap.usableSize(p)} bytes`);
    {
      using samples = heap.alloc(Float64Array, 1000);
      samples.view.fill(Math.PI);
      io.out(`using samples = heap.alloc(Float64Array, 1000) -> ${samples.byteLength} bytes at ${samples.ptr}`);
    }
    io.out(`after the using scope the cell is freed: live blocks = ${heap.stats().liveBlocks} (just p)`);
    heap.free(p);
    io.out(
      `free(p) twice        -> ${paint(
        io,
        "yellow",
        codeOf(() => heap.free(p)),
      )}`,
    );
    io.out(
      `free(12345)          -> ${paint(
        io,
        "yellow",
        codeOf(() => heap.free(12345)),
      )}`,
    );
    io.out(
      `malloc(-1)           -> ${paint(
        io,
        "yellow",
        codeOf(() => heap.malloc(-1)),
      )}`,
    );
    const cell = heap.alloc(Uint8Array, 8);
    cell.free();
    io.out(
      `cell.view after free -> ${paint(
        io,
        "yellow",
        codeOf(() => cell.view),
      )}`,
    );
    const big = heap.malloc(1 << 20);
    io.out(`malloc(1 MiB) grew the heap to ${formatBytes(heap.stats().capacity)}; heap.check() passes`);
    heap.check();
    heap.free(big);
    const leaked = heap.malloc(48);
    const report = heap.leakReport().sites[0];
    io.out(
      `leakReport(): ${report?.blocks} block(s), ${report?.bytes} bytes allocated at ${report?.site.split("\n")[0]?.replace(/^at /, "")}`,
    );
    heap.free(leaked);
    const fixed = Heap.fixed(4096);
    let count = 0;
    while (fixed.tryMalloc(256) !== 0) count++;
    io.out(`Heap.fixed(4096): ${count} x 256 B then tryMalloc -> 0; malloc -> ${codeOf(() => fixed.malloc(256))}`);
    // The default heap runs memkit's TLSF compiled to WebAssembly; engine: "typescript" runs the
    // same algorithm in TypeScript (same bytes, same errors): time both on the same pairs.
    const pairs = (target: Heap) => {
      const started = performance.now();
      for (let i = 0; i < 200_000; i++) target.free(target.malloc(16 + (i & 255)));
      return performance.now() - started;
    };
    const engineMs = pairs(Heap.create());
    const scriptMs = pairs(Heap.create({ engine: "typescript" }));
    const kind =
      Heap.create().memory instanceof ArrayBuffer ? "an ArrayBuffer (no engine here)" : "a WebAssembly.Memory";
    io.out(
      `engine: Heap.create() heaps live in ${kind}; 200,000 malloc/free pairs ${engineMs.toFixed(0)} ms (engine: "typescript": ${scriptMs.toFixed(0)} ms)`,
    );
    const stats = heap.stats();
    io.out(
      `stats: capacity ${formatBytes(stats.capacity)}, used ${stats.used}, peak ${formatBytes(stats.peakUsed)}, fragmentation ${stats.fragmentation.toFixed(2)}`,
    );
  },
};
