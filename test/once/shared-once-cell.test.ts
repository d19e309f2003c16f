import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { SharedOnceCell } from "memkit/once";
import { describe, expect, it } from "vitest";

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

const kinds: [string, unknown][] = [
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
];

describe("SharedOnceCell across 8 real workers", () => {
  it.each(
    (["v8", "portable"] as const).flatMap((codec) => kinds.map(([kind, expected]) => [codec, kind, expected] as const)),
  )("exactly one thread initializes; all read the same value (%s codec, %s)", async (codec, kind, expected) => {
    const cell = new SharedOnceCell<unknown>({ capacity: 4096, codec });
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

describe("SharedOnceCell edges (issue 12)", () => {
  it("attach to a buffer under 64 bytes is a typed error, not a raw RangeError", () => {
    for (const size of [0, 16, 31, 63]) {
      expect(() => SharedOnceCell.attach(new SharedArrayBuffer(size))).toThrow(
        expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
      );
    }
    expect(() => new SharedOnceCell({ codec: "json" as "v8" })).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
    );
  });

  it("sync re-entrancy is ReentrantInitError at once, not a lease-long wait and a second init", () => {
    const cell: SharedOnceCell<number> = new SharedOnceCell<number>({ leaseMs: 200 });
    let inits = 0;
    expect(() =>
      cell.getOrInitSync(() => {
        inits++;
        return cell.getOrInitSync(() => ++inits);
      }),
    ).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_REENTRANT_INIT" }));
    expect(inits).toBe(1);
    expect(cell.getOrInitSync(() => 5)).toBe(5);
  });

  it("async re-entrancy (after an await) rejects with ReentrantInitError instead of deadlocking", async () => {
    const cell: SharedOnceCell<number> = new SharedOnceCell<number>();
    const inner = cell.getOrInit(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return (await cell.getOrInit(async () => 1)) + 1;
    });
    await expect(inner).rejects.toMatchObject({ code: "ERR_MEMKIT_REENTRANT_INIT" });
    await expect(
      cell.getOrInit(async () => cell.getOrInitSync(() => 1)), // blocking on our own init
    ).rejects.toMatchObject({ code: "ERR_MEMKIT_REENTRANT_INIT" });
    expect(await cell.getOrInit(async () => 3)).toBe(3);
    expect(cell.initCount).toBe(3);
  }, 10_000);

  it("the main thread waiting out a dead worker's lease takes over instead of exiting with code 13", () => {
    const script = `
      import { once } from "node:events";
      import { Worker } from "node:worker_threads";
      import { SharedOnceCell } from "memkit/once";
      const cell = new SharedOnceCell({ leaseMs: 300 });
      const worker = new Worker(new URL(${JSON.stringify(new URL(fixture, "file:").href)}), {
        execArgv: [], // not the parent's --input-type
        workerData: { cell: cell.buffer, counters: new SharedArrayBuffer(8), kind: "bigint", mode: "hang-first", workers: 1 },
      });
      await once(worker, "message"); // the worker now holds the lease and hangs
      await worker.terminate();
      const value = await cell.getOrInit(async () => "taken over");
      console.log(JSON.stringify({ value, inits: cell.initCount }));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ value: "taken over", inits: 2 });
  });

  it("without SharedArrayBuffer (a page that is not cross-origin isolated) creating one is a typed error", () => {
    const script = `
      delete globalThis.SharedArrayBuffer;
      const { SharedOnceCell, OnceCell } = await import("memkit/once");
      const codes = [new OnceCell().getOrInit(() => "loads")];
      for (const make of [() => new SharedOnceCell(), () => SharedOnceCell.attach({})]) {
        try { make(); codes.push("no error"); } catch (e) { codes.push(e.code); }
      }
      console.log(JSON.stringify(codes));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(child.stdout)).toEqual([
      "loads",
      "ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE",
      "ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE",
    ]);
  });

  it("a thread that may not block (a browser's main thread) gets ERR_MEMKIT_UNSUPPORTED from getOrInitSync", () => {
    const script = `
      import { once } from "node:events";
      import { Worker } from "node:worker_threads";
      import { SharedOnceCell } from "memkit/once";
      const cell = new SharedOnceCell({ leaseMs: 60_000 });
      const worker = new Worker(new URL(${JSON.stringify(new URL(fixture, "file:").href)}), {
        execArgv: [],
        workerData: { cell: cell.buffer, counters: new SharedArrayBuffer(8), kind: "bigint", mode: "hang-first", workers: 1 },
      });
      await once(worker, "message"); // the worker holds the lease: this thread would have to wait
      // What a browser's main thread does with Atomics.wait:
      Atomics.wait = () => { throw new TypeError("Atomics.wait cannot be called in this context"); };
      let code = "no error";
      try { cell.getOrInitSync(() => 1); } catch (e) { code = e.code; }
      await worker.terminate();
      console.log(JSON.stringify(code));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(JSON.parse(child.stdout)).toBe("ERR_MEMKIT_UNSUPPORTED");
  });

  it("the portable codec refuses functions with a typed error", () => {
    const cell = new SharedOnceCell<unknown>({ codec: "portable" });
    expect(() => cell.getOrInitSync(() => ({ f: () => 1 }))).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_NOT_SERIALIZABLE" }),
    );
    const cyclic: { self?: unknown; n: bigint } = { n: -(2n ** 70n) };
    cyclic.self = cyclic;
    const read = SharedOnceCell.attach<typeof cyclic>(cell.buffer);
    expect(cell.getOrInitSync(() => cyclic)).toBe(cyclic);
    const copy = read.get();
    expect(copy?.n).toBe(-(2n ** 70n));
    expect(copy?.self).toBe(copy);
  });
});
