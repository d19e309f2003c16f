/**
 * `npm run bench -- once`: reads after initialization vs a plain property read, SharedOnceCell.get()
 * in a worker, and 1,000 concurrent first callers of AsyncOnceCell vs p-memoize-style promise caching.
 */
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { do_not_optimize } from "mitata";
import { AsyncOnceCell, Lazy, OnceCell, SharedOnceCell } from "../src/once/index.js";
import { runBenchmark } from "./harness.js";

const READS = 1000;
const lazy = new Lazy(() => ({ n: 1 }));
lazy.value;
const cell = new OnceCell<{ n: number }>();
cell.set({ n: 1 });
const plain = { value: { n: 1 } };

const shared = new SharedOnceCell<{ n: number }>();
const worker = new Worker(new URL("./once/shared-get-worker.js", import.meta.url), { workerData: shared.buffer });
const [inWorker] = (await once(worker, "message")) as [{ shared: number; plain: number }];
await worker.terminate();

// p-memoize style: cache the promise on first call (caches a rejection forever, too).
function promiseCache<T>(init: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    cached ??= init();
    return cached;
  };
}

const CALLERS = 1000;
await runBenchmark("once", [
  {
    name: `read after initialization (${READS} reads per op, ns per read)`,
    contenders: [
      {
        name: "Lazy.value",
        ops: READS,
        fn: () => {
          let s = 0;
          for (let i = 0; i < READS; i++) s += lazy.value.n;
          do_not_optimize(s);
        },
      },
      {
        name: "OnceCell.get()",
        ops: READS,
        fn: () => {
          let s = 0;
          for (let i = 0; i < READS; i++) s += (cell.get() as { n: number }).n;
          do_not_optimize(s);
        },
      },
      {
        name: "plain property read",
        ops: READS,
        fn: () => {
          let s = 0;
          for (let i = 0; i < READS; i++) s += plain.value.n;
          do_not_optimize(s);
        },
      },
    ],
  },
  {
    name: "in a worker: SharedOnceCell.get() after initialization (median of 7 x 10M reads)",
    contenders: [
      { name: "SharedOnceCell.get()", measured: { p50_ns: inWorker.shared, p99_ns: Number.NaN } },
      { name: "plain property read", measured: { p50_ns: inWorker.plain, p99_ns: Number.NaN } },
    ],
  },
  {
    name: `${CALLERS} concurrent first callers (one op = fresh cell + all callers settled)`,
    contenders: [
      {
        name: "AsyncOnceCell.getOrInit",
        fn: async () => {
          const c = new AsyncOnceCell<number>();
          const init = async () => 1;
          const all: Promise<number>[] = [];
          for (let i = 0; i < CALLERS; i++) all.push(c.getOrInit(init));
          await Promise.all(all);
        },
      },
      {
        name: "p-memoize-style promise cache",
        fn: async () => {
          const get = promiseCache(async () => 1);
          const all: Promise<number>[] = [];
          for (let i = 0; i < CALLERS; i++) all.push(get());
          await Promise.all(all);
        },
      },
    ],
  },
]);
