import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { Heap } from "../../src/heap/index.js";

const worker = new URL("./shared-worker.js", import.meta.url);

async function round(threads: number, operations: number): Promise<number> {
  const heap = Heap.create({ shared: true, zero: "none", initialBytes: 4 << 20, maxBytes: 64 << 20 });
  const workers = Array.from(
    { length: threads },
    (_, i) => new Worker(worker, { workerData: { memory: heap.memory, operations, seed: i + 1 } }),
  );
  const started = process.hrtime.bigint();
  await Promise.all(workers.map((w) => once(w, "message")));
  const wall = Number(process.hrtime.bigint() - started);
  await Promise.all(workers.map((w) => w.terminate()));
  heap.check();
  return wall / (threads * operations); // ns per operation of the whole process: lower = more throughput
}

/** Median over `rounds` of ns per op (total throughput) with 1 and 2 threads sharing one heap. */
export async function sharedThroughput(rounds = 5, operations = 2_000_000): Promise<{ one: number[]; two: number[] }> {
  const one: number[] = [];
  const two: number[] = [];
  for (let i = 0; i < rounds; i++) {
    one.push(await round(1, operations));
    two.push(await round(2, operations));
  }
  return { one, two };
}
