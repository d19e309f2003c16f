import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { SharedOnceCell } from "../../src/once/index.js";

const fixture = fileURLToPath(new URL("../fixtures/shared-once-worker.mjs", import.meta.url));

type Reply = { value?: unknown; error?: { code?: string; causeCode?: string }; hanging?: boolean };

function start(
  cell: SharedOnceCell<unknown>,
  counters: SharedArrayBuffer,
  kind: string,
  mode: string,
  workers: number,
) {
  return new Worker(fixture, { workerData: { cell: cell.buffer, counters, kind, mode, workers } });
}

async function race(cell: SharedOnceCell<unknown>, kind: string, mode = "normal", count = 8) {
  const counters = new SharedArrayBuffer(8);
  const workers = Array.from({ length: count }, () => start(cell, counters, kind, mode, count));
  const replies = await Promise.all(
    workers.map(async (w) => {
      const [reply] = (await once(w, "message")) as [Reply];
      await w.terminate();
      return reply;
    }),
  );
  return { replies, initializers: new Int32Array(counters)[0] };
}

describe("SharedOnceCell across 8 real workers", () => {
  it.each([
    [
      "map",
      new Map([
        ["a", 1],
        ["b", 2],
      ]),
    ],
    ["bigint", 2n ** 100n],
    ["typed", new Float64Array([1.5, 2.5, 3.5])],
    ["nested", { list: [1, { deep: new Set(["x"]) }], when: new Date(0) }],
  ])("exactly one thread initializes; all read the same %s", async (kind, expected) => {
    const cell = new SharedOnceCell<unknown>({ capacity: 4096 });
    const { replies, initializers } = await race(cell, kind);
    expect(initializers).toBe(1);
    expect(cell.initCount).toBe(1);
    for (const reply of replies) expect(reply.value).toEqual(expected);
    expect(cell.get()).toEqual(expected);
  });

  it("when the first initializer throws, another waiter takes over (retry policy)", async () => {
    const cell = new SharedOnceCell<unknown>();
    const { replies, initializers } = await race(cell, "map", "throw-first");
    expect(initializers).toBe(2);
    const failed = replies.filter((r) => r.error);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error?.code).toBe("E_FIRST");
    expect(replies.filter((r) => r.value instanceof Map)).toHaveLength(7);
  });

  it("under the poison policy every thread sees PoisonedError with the original cause", async () => {
    const cell = new SharedOnceCell<unknown>({ onError: "poison" });
    const { replies, initializers } = await race(cell, "map", "throw-first");
    expect(initializers).toBe(1);
    const codes = replies.map((r) => r.error?.code).sort();
    expect(codes.filter((c) => c === "ERR_MEMKIT_POISONED")).toHaveLength(7);
    expect(replies.filter((r) => r.error?.causeCode === "E_FIRST")).toHaveLength(7);
    expect(() => cell.get()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_POISONED" }));
  });

  it("an initializer worker terminated mid-init is taken over after the lease; nobody hangs", async () => {
    const cell = new SharedOnceCell<unknown>({ leaseMs: 300 });
    const counters = new SharedArrayBuffer(8);
    const first = start(cell, counters, "bigint", "hang-first", 1);
    const [hello] = (await once(first, "message")) as [Reply];
    expect(hello.hanging).toBe(true);
    const others = Array.from({ length: 3 }, () => start(cell, counters, "bigint", "normal", 1));
    await first.terminate();
    const replies = await Promise.all(
      others.map(async (w) => {
        const [reply] = (await once(w, "message")) as [Reply];
        await w.terminate();
        return reply;
      }),
    );
    for (const reply of replies) expect(reply.value).toBe(2n ** 100n);
    expect(cell.initCount).toBe(2);
  });

  it("a value larger than the capacity is a clear typed error in every thread", async () => {
    const cell = new SharedOnceCell<unknown>({ capacity: 1000 });
    const { replies } = await race(cell, "huge", "normal", 2);
    for (const reply of replies) expect(reply.error?.code).toBe("ERR_MEMKIT_CAPACITY_EXCEEDED");
    expect(cell.isInitialized).toBe(false);
  });
});

describe("SharedOnceCell on the main thread", () => {
  it("getOrInit does not block and caches the value", async () => {
    const cell = new SharedOnceCell<string>();
    let calls = 0;
    const [a, b] = await Promise.all([
      cell.getOrInit(async () => `v${++calls}`),
      cell.getOrInit(async () => `v${++calls}`),
    ]);
    expect([a, b]).toEqual(["v1", "v1"]);
    expect(calls).toBe(1);
    expect(cell.getOrInitSync(() => "other")).toBe("v1");
  });

  it("attach rejects a buffer that holds no cell; bad options are typed errors", () => {
    expect(() => SharedOnceCell.attach(new SharedArrayBuffer(128))).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
    );
    expect(() => new SharedOnceCell({ capacity: -1 })).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }),
    );
  });

  it("unserializable values are a typed error and leave the cell empty", () => {
    const cell = new SharedOnceCell<() => void>();
    expect(() => cell.getOrInitSync(() => () => {})).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_NOT_SERIALIZABLE" }),
    );
    expect(cell.isInitialized).toBe(false);
  });
});
