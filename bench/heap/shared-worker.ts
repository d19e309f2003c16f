/** Bench worker: attaches the shared heap and runs a malloc/free churn, reporting elapsed ns. */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "../../src/heap/index.js";

const { memory, operations, seed } = workerData as { memory: SharedArrayBuffer; operations: number; seed: number };
const heap = Heap.attach(memory);
const live = new Float64Array(256);
let x = seed;
const start = process.hrtime.bigint();
for (let i = 0; i < operations; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  const slot = (x >>> 0) & 255;
  const ptr = live[slot] as number;
  if (ptr !== 0) {
    heap.free(ptr);
    live[slot] = 0;
  } else {
    live[slot] = heap.malloc(16 + ((x >>> 8) & 1023));
  }
}
const elapsed = Number(process.hrtime.bigint() - start);
for (const ptr of live) if (ptr !== 0) heap.free(ptr);
heap.flush();
parentPort?.postMessage(elapsed);
