/**
 * `npm run bench -- heap`: memkit/heap against AssemblyScript's TLSF compiled to WebAssembly (called from
 * JS), glibc malloc, jemalloc and mimalloc (a C replayer built with gcc, the last two by LD_PRELOAD),
 * @thi.ng/malloc and per-allocation `new Uint8Array(n)`, on the workloads of the heap issue: W1
 * fixed-size churn, W2 random sizes, W3 realloc growth, T1 the real cc1 trace, A1 arena-shaped scope,
 * plus shared-heap throughput with 1 and 2 workers. Every contender does the same work per event
 * (checked, see heap/same-work.ts): the trace's calls with its sizes, one byte written into each new block.
 */
import { existsSync } from "node:fs";
import type { ArenaHeap } from "../src/heap/index.js";
import { CC1_TRACE, loadTrace, peakLiveBytes, type Trace, withSurvivorsFreed } from "../test/helpers/trace.js";
import { type Contender, type Group, runBenchmark } from "./harness.js";
import { assemblyScriptRunner, cellRunner, heapRunner, thingRunner, typedArrayRunner } from "./heap/contenders.js";
import { cpuNsPerOp } from "./heap/cpu-time.js";
import { isolatedContenders } from "./heap/isolated.js";
import { buildNativeReplayer, nativeAllocators, runNative, traceFile } from "./heap/native.js";
import { sharedThroughput } from "./heap/shared.js";
import { printTargets } from "./heap/targets.js";
import { a1, w1, w2, w3 } from "./heap/workloads.js";

const replayer = buildNativeReplayer();
const natives = replayer === undefined ? [] : nativeAllocators();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

function workloadGroup(
  name: string,
  trace: Trace,
  options: { cells?: boolean; arena?: boolean; pool?: boolean; thingSamples?: number },
): Group {
  const peak = peakLiveBytes(trace);
  const ops = trace.events;
  const tlsfFixed = heapRunner(trace, { zero: "none" }, true);
  const tlsfCached = heapRunner(trace, { zero: "none", cache: true }, true);
  const tlsfNone = heapRunner(trace, { zero: "none" });
  const tlsf = heapRunner(trace, {});
  const scriptNone = heapRunner(trace, { zero: "none", engine: "typescript" }, true);
  const script = heapRunner(trace, { engine: "typescript" });
  const thing = thingRunner(trace);
  const footprint = (highWater: () => number) => () => ({ "high-water/peak": highWater() / peak });
  const contenders: Contender[] = [
    {
      name: "memkit tlsf, Heap.fixed (zero: none)",
      fn: tlsfFixed.run,
      ops,
      extra: footprint(() => tlsfFixed.heap.stats().highWater),
    },
    {
      name: "memkit tlsf, Heap.fixed + cache (zero: none)",
      fn: tlsfCached.run,
      ops,
      extra: footprint(() => tlsfCached.heap.stats().highWater),
    },
    {
      name: "memkit tlsf, Heap.create (zero: none)",
      fn: tlsfNone.run,
      ops,
      extra: footprint(() => tlsfNone.heap.stats().highWater),
    },
    { name: "memkit tlsf, Heap.create (zero: alloc, default)", fn: tlsf.run, ops },
    {
      name: "memkit tlsf, Heap.fixed, engine: typescript (zero: none)",
      fn: scriptNone.run,
      ops,
      extra: footprint(() => scriptNone.heap.stats().highWater),
    },
    { name: "memkit tlsf, Heap.create, engine: typescript (zero: alloc)", fn: script.run, ops },
  ];
  if (options.pool) {
    const pool = heapRunner(trace, { strategy: "pool", slotSize: 64, zero: "none" });
    contenders.push({ name: "memkit pool, Heap.create (zero: none)", fn: pool.run, ops });
  }
  if (options.arena) {
    const arena = heapRunner(trace, { strategy: "arena", zero: "none" });
    const run = () => {
      arena.run();
      (arena.heap as ArenaHeap).reset();
    };
    contenders.push({ name: "memkit arena, Heap.create (zero: none) + reset", fn: run, ops });
  }
  if (options.cells) contenders.push({ name: "memkit cells (heap.alloc)", fn: cellRunner(trace), ops });
  const as = assemblyScriptRunner(trace);
  contenders.push({
    name: "AssemblyScript TLSF (wasm, -O3 --noAssert)",
    fn: as.run,
    ops,
    extra: footprint(as.highWater),
  });
  const file = replayer === undefined ? "" : traceFile(trace);
  for (const allocator of natives) {
    if (replayer === undefined) break;
    const c = runNative(replayer, file, trace, allocator);
    const measured = { p50_ns: c.p50_ns, p99_ns: c.p99_ns };
    // glibc's own count is address space, like memkit's high-water; the others' is resident growth.
    const fp = allocator.name === "glibc" ? "high-water/peak" : "resident/peak";
    contenders.push({
      name: allocator.label,
      measured,
      extra: () => ({ "cpu/op": c.cpu_ns, [fp]: c.footprint, "faults/replay": c.faults }),
    });
  }
  contenders.push({ name: "new Uint8Array(n)", fn: typedArrayRunner(trace), ops });
  contenders.push({
    name: "@thi.ng/malloc",
    fn: thing.run,
    ops,
    samples: options.thingSamples ?? 12,
  });
  return { name, contenders: contenders.map((c) => withCpuTime(c, ops)) };
}

/**
 * Adds the CPU time per op, measured right after mitata's wall-clock samples of the same contender
 * (see heap/cpu-time.ts). Slow contenders (those given fewer samples) keep wall-clock figures only.
 */
function withCpuTime(contender: Contender, ops: number): Contender {
  const fn = contender.fn;
  if (fn === undefined || contender.samples !== undefined) return contender;
  return { ...contender, extra: () => ({ "cpu/op": cpuNsPerOp(fn, ops), ...(contender.extra?.() ?? {}) }) };
}

const groups: Group[] = [
  workloadGroup("W1 fixed-size churn (64 B, <= 1000 live), ns per op", w1(), { pool: true, cells: true }),
  workloadGroup("W2 random sizes 16..4096 B (~5000 live), ns per op", w2(), { cells: true, thingSamples: 5 }),
  workloadGroup("W3 realloc growth/shrink (200 buffers, 16 B..64 KiB), ns per op", w3(), { thingSamples: 5 }),
];
if (existsSync(CC1_TRACE)) {
  groups.push(
    workloadGroup("T1 cc1 trace replay (+ survivors freed), ns per event", withSurvivorsFreed(loadTrace(CC1_TRACE)), {
      arena: true,
      thingSamples: 5,
    }),
  );
}
groups.push(
  workloadGroup("A1 scope: 1000 allocations 16..256 B then all freed, ns per op", a1(), { arena: true, pool: false }),
);

// The same replays, one contender per process (see heap/isolated.ts): the default heap alone.
for (const key of ["w1", "w2", "w3", ...(existsSync(CC1_TRACE) ? ["t1"] : []), "a1"]) {
  const contenders = isolatedContenders(key);
  if (contenders.length > 0)
    groups.push({
      name: `${key.toUpperCase()} alone: one contender per process, CPU ns per event (median of 3)`,
      contenders,
    });
}

const shared = await sharedThroughput();
groups.push({
  name: "shared heap (SharedArrayBuffer + Atomics lock): ns per op of total throughput, median of 5",
  contenders: [
    { name: "1 worker", measured: { p50_ns: median(shared.one), p99_ns: Math.max(...shared.one) } },
    { name: "2 workers on one heap", measured: { p50_ns: median(shared.two), p99_ns: Math.max(...shared.two) } },
  ],
});

printTargets(await runBenchmark("heap", groups));
