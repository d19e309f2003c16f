/** Bench worker: times `SharedOnceCell.get()` after initialization, and a plain read, in a worker. */
import { parentPort, workerData } from "node:worker_threads";
import { SharedOnceCell } from "../../src/once/index.js";

const cell = SharedOnceCell.attach<{ n: number }>(workerData as SharedArrayBuffer);
cell.getOrInitSync(() => ({ n: 1 }));
const plain = { value: { n: 1 } };
const N = 10_000_000;
function time(read: () => number): number {
  const samples: number[] = [];
  for (let round = 0; round < 7; round++) {
    let sink = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) sink += read();
    samples.push(Number(process.hrtime.bigint() - start) / N);
    if (sink === -1) console.log(sink);
  }
  return samples.sort((a, b) => a - b)[3] as number;
}
parentPort?.postMessage({ shared: time(() => (cell.get() as { n: number }).n), plain: time(() => plain.value.n) });
