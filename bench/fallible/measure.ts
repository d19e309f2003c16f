import { PerformanceObserver } from "node:perf_hooks";

/** One measured run: wall time, garbage-collector time and JS heap growth while it ran. */
export interface RunFigures {
  readonly ms: number;
  readonly gcMs: number;
  readonly heapDeltaBytes: number;
}

let gcTotal = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcTotal += entry.duration;
});
observer.observe({ entryTypes: ["gc"] });

const collect = () => (globalThis as { gc?: () => void }).gc?.();

/** Runs `work` `runs` times (after a GC each time) and returns the run with the median time. */
export async function measureRuns(runs: number, work: () => unknown): Promise<RunFigures> {
  const results: RunFigures[] = [];
  for (let i = 0; i < runs; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 10)); // let the GC entries of earlier work arrive
    const heapBefore = process.memoryUsage().heapUsed;
    const gcBefore = gcTotal;
    const start = performance.now();
    const keep = work();
    const ms = performance.now() - start;
    await new Promise((r) => setTimeout(r, 10));
    const heapDeltaBytes = process.memoryUsage().heapUsed - heapBefore;
    results.push({ ms, gcMs: gcTotal - gcBefore, heapDeltaBytes });
    if (keep === "never") console.log(keep); // keeps the result alive until measured
  }
  results.sort((a, b) => a.ms - b.ms);
  return results[results.length >> 1] as RunFigures;
}
