import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Heap, HeapPoisonedError } from "memkit/heap";
import { describe, expect, it } from "vitest";

const hammer = fileURLToPath(new URL("../fixtures/heap-hammer.mjs", import.meta.url));
const H_LOCK = 4;

type Report = { poisoned?: boolean; live?: [number, number, number][]; ops?: number; error?: string };

/** Resolves once every worker's counter in `flags[1..]` has moved `steps` times, or it has exited. */
async function progressed(flags: Int32Array, exited: boolean[], steps: number): Promise<void> {
  while (exited.some((gone, i) => !gone && (Atomics.load(flags, 1 + i) as number) < steps)) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * One round: `count` workers hammer a shared heap until stopped; worker 0 is terminated mid-run
 * (often inside an operation, holding the lock). The others must end: normally, or by detecting
 * the dead holder (HeapPoisonedError); then recover() keeps every block they still hold.
 */
async function round(count: number, seed: number): Promise<{ poisoned: boolean }> {
  const heap = Heap.create({ shared: true, initialBytes: 256 * 1024, maxBytes: 64 << 20 });
  const control = new SharedArrayBuffer(4 * (1 + count));
  const flags = new Int32Array(control);
  const mailbox = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: count },
    (_, id) =>
      new Worker(hammer, {
        // No thread cache: every operation takes the lock, so a terminate often lands inside one.
        workerData: {
          memory: heap.memory,
          id,
          untilStopped: true,
          control,
          mailbox,
          options: { lockTimeoutMs: 200, cache: false },
        },
      }),
  );
  const exited = workers.map(() => false);
  for (const [i, worker] of workers.entries()) {
    worker.once("exit", () => {
      exited[i] = true;
    });
  }
  const reports = workers.slice(1).map(async (worker) => {
    const [message] = (await once(worker, "message")) as [Report];
    await worker.terminate();
    return message;
  });
  await progressed(flags, exited, 2 + (seed % 5));
  await (workers[0] as Worker).terminate();
  Atomics.store(flags, 0, 1);
  const results = await Promise.all(reports);
  for (const r of results) expect(r.error).toBeUndefined();
  const poisoned = results.some((r) => r.poisoned === true);
  const report = heap.recover();
  expect(report.wasPoisoned).toBe(poisoned || report.wasPoisoned);
  heap.check();
  // Every block a surviving worker still held is live and intact.
  for (const r of results) {
    for (const [ptr, size, fill] of r.live ?? []) {
      expect(heap.usableSize(ptr)).toBeGreaterThanOrEqual(size);
      expect(heap.u8.subarray(ptr, ptr + size).every((x) => x === fill)).toBe(true);
      heap.free(ptr);
    }
  }
  heap.check();
  return { poisoned };
}

describe("a thread that dies inside a heap operation", () => {
  it("never hangs the others: they end or report a poisoned heap, and recover() keeps their blocks", async () => {
    const outcomes: boolean[] = [];
    for (let i = 0; i < Number(process.env.MEMKIT_DEAD_ROUNDS ?? 6); i++) outcomes.push((await round(3, i)).poisoned);
    // Not asserted: how often the terminated worker held the lock (that is up to the scheduler).
    expect(outcomes.length).toBeGreaterThan(0);
    if (process.env.MEMKIT_DEBUG_DEAD) console.log("poisoned rounds", outcomes);
  }, 60_000);

  it("a holder that never releases poisons the heap after the lease; recover() unpoisons it", () => {
    const heap = Heap.create({ shared: true, initialBytes: 64 * 1024, lockTimeoutMs: 20 });
    const keep = heap.malloc(100);
    heap.u8.fill(3, keep, keep + 100);
    // A lock taken by owner 999, who will never release it (as if terminated mid-operation).
    Atomics.store(new Int32Array(heap.u8.buffer), H_LOCK, 999 << 1);
    let error: unknown;
    try {
      heap.malloc(10);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HeapPoisonedError);
    expect(error).toMatchObject({ code: "ERR_MEMKIT_HEAP_POISONED", deadOwner: 999 });
    // Every later operation, from any heap object, says so too.
    expect(() => Heap.attach(heap.memory).malloc(8)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_HEAP_POISONED" }),
    );
    const report = heap.recover();
    expect(report).toMatchObject({ wasPoisoned: true, deadOwner: 999, liveBlocks: 1, lost: [] });
    expect(heap.u8.subarray(keep, keep + 100).every((x) => x === 3)).toBe(true);
    heap.free(keep);
    heap.check();
    expect(heap.malloc(10)).toBeGreaterThan(0);
  });

  it("recover() reports the bytes whose headers it could not read and keeps everything else", () => {
    const heap = Heap.create({ shared: true, initialBytes: 64 * 1024 });
    const a = heap.malloc(64);
    const b = heap.malloc(64);
    const c = heap.malloc(64);
    heap.u8.fill(1, a, a + 64);
    heap.u8.fill(3, c, c + 64);
    // A header torn mid-write (as by a thread that died inside free(b)).
    const words = new Int32Array(heap.u8.buffer);
    words[(b - 4) >> 2] = (words[(b - 4) >> 2] as number) ^ 0x1000;
    const report = heap.recover();
    expect(report.lost).toEqual([{ offset: b - 8, bytes: 72 }]);
    expect(report.liveBlocks).toBe(2);
    expect(heap.u8.subarray(a, a + 64).every((x) => x === 1)).toBe(true);
    expect(heap.u8.subarray(c, c + 64).every((x) => x === 3)).toBe(true);
    heap.check();
    heap.free(a);
    heap.free(c);
    expect(heap.stats().liveBlocks).toBe(0);
  });
});
