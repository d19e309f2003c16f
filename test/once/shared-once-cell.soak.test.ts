import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { SharedOnceCell } from "memkit/once";
import { describe, expect, it } from "vitest";

// The check, as a soak: 8 workers race 200 fresh cells, all at once per round (a barrier
// per round); every cell must be initialized exactly once and read the same everywhere. It caught
// a thread reading the lease before the winner had written it, and taking over a live initializer.
const WORKERS = 8;
const ROUNDS = Number(process.env.MEMKIT_SOAK_ROUNDS ?? 200);

const workerSource = `
  const { parentPort, workerData, threadId } = require("node:worker_threads");
  import("memkit/once").then(({ SharedOnceCell }) => {
    const barrier = new Int32Array(workerData.barrier);
    const seen = [];
    workerData.cells.forEach((buffer, round) => {
      Atomics.add(barrier, round, 1);
      while (Atomics.load(barrier, round) < workerData.workers) {}
      seen.push(SharedOnceCell.attach(buffer).getOrInitSync(() => threadId));
    });
    parentPort.postMessage(seen);
  });
`;

describe("SharedOnceCell soak", () => {
  it(`${WORKERS} workers x ${ROUNDS} rounds: each cell initialized exactly once`, async () => {
    const cells = Array.from({ length: ROUNDS }, () => new SharedOnceCell<number>({ capacity: 64 }));
    const barrier = new SharedArrayBuffer(4 * ROUNDS);
    const workers = Array.from(
      { length: WORKERS },
      () =>
        new Worker(workerSource, {
          eval: true,
          workerData: { barrier, workers: WORKERS, cells: cells.map((c) => c.buffer) },
        }),
    );
    const seen = await Promise.all(workers.map(async (w) => ((await once(w, "message")) as [number[]])[0]));
    await Promise.all(workers.map((w) => w.terminate()));
    expect(cells.map((c) => c.initCount)).toEqual(Array(ROUNDS).fill(1));
    for (let round = 0; round < ROUNDS; round++) {
      expect(new Set(seen.map((values) => values[round])).size).toBe(1);
    }
  }, 120_000);
});
