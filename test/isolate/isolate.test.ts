import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executionOf, type IsolateMode, type Isolator, type IsolatorOptions } from "memkit/isolate";
import { describe, expect, it } from "vitest";
import { failure, isolatorMaker } from "./isolators.js";

const modes: IsolateMode[] = ["process", "worker"];
const makeIsolator = isolatorMaker();
const make = (mode: IsolateMode, extra: IsolatorOptions = {}): Isolator => makeIsolator({ mode, ...extra });

describe.each(modes)("isolate in %s mode", (mode) => {
  const isolator = make(mode, { spares: 1 });

  it("returns the result of sync and async functions with arguments", async () => {
    expect(await isolator.run((a: number, b: number) => a + b, { args: [2, 3] })).toBe(5);
    expect(await isolator.run(async (s: string) => s.toUpperCase(), { args: ["ok"] })).toBe("OK");
  });

  it("carries structured-clone results: Map, Set, Date, BigInt, typed arrays, errors, cycles", async () => {
    const value = await isolator.run(() => {
      const cyclic: Record<string, unknown> = { name: "loop" };
      cyclic.self = cyclic;
      return {
        map: new Map([["k", 1]]),
        set: new Set([1, 2]),
        date: new Date(5),
        big: 2n ** 70n,
        bytes: new Uint16Array([1, 2, 3]),
        error: new RangeError("inside"),
        cyclic,
      };
    });
    expect(value.map.get("k")).toBe(1);
    expect(value.set.has(2)).toBe(true);
    expect(value.date.getTime()).toBe(5);
    expect(value.big).toBe(2n ** 70n);
    expect([...value.bytes]).toEqual([1, 2, 3]);
    expect(value.error).toBeInstanceOf(RangeError);
    expect(value.cyclic.self).toBe(value.cyclic);
  });

  it("a 64 MiB Float64Array comes back intact", async () => {
    const result = await isolator.run(() => {
      const a = new Float64Array(8 * 1024 * 1024);
      a[0] = 1.5;
      a[a.length - 1] = 2.5;
      return a;
    });
    expect(result.length).toBe(8 * 1024 * 1024);
    expect(result[0]).toBe(1.5);
    expect(result[result.length - 1]).toBe(2.5);
  });

  it("revives what the function threw, sync and async: class, message, code, cause, fields", async () => {
    const thrown = await failure(
      isolator.run(() => {
        throw Object.assign(new TypeError("bad input", { cause: new Error("root") }), {
          code: "E_BAD",
          field: { n: 1 },
        });
      }),
    );
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown.message).toBe("bad input");
    expect(thrown.code).toBe("E_BAD");
    expect(thrown.field).toEqual({ n: 1 });
    expect((thrown.cause as Error).message).toBe("root");
    expect(thrown.stack).toContain("bad input");
    expect(executionOf(thrown)).toBe("ran");
    const custom = await failure(
      isolator.run(async () => {
        class QuotaError extends Error {
          code = "E_QUOTA";
          limit = 10;
        }
        await new Promise((r) => setTimeout(r, 1));
        const e = new QuotaError("over quota");
        e.name = "QuotaError";
        throw e;
      }),
    );
    expect(custom.name).toBe("QuotaError");
    expect(custom.code).toBe("E_QUOTA");
    expect(custom.limit).toBe(10);
  });

  it("process.exit(3) inside is IsolateExitedError (ran)", async () => {
    const error = await failure(isolator.run(() => process.exit(3)));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_EXITED", exitCode: 3, execution: "ran" });
  });

  it("V8 heap exhaustion under memoryLimitMb is IsolateOutOfMemoryError (heap)", async () => {
    const limited = make(mode, { memoryLimitMb: 64, spares: 0 });
    const error = await failure(
      limited.run(() => {
        const keep: number[][] = [];
        for (;;) keep.push(new Array(100_000).fill(1.5));
      }),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY", kind: "heap", limitMb: 64 });
  });

  it("an infinite loop is stopped by timeoutMs", async () => {
    const error = await failure(
      isolator.run(
        () => {
          for (;;);
        },
        { timeoutMs: 300 },
      ),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_TIMEOUT", timeoutMs: 300, execution: "may-have-run" });
  });

  it("abort mid-call stops the child (may-have-run); an already-aborted signal never starts it", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "memkit-abort-")), "entered");
    const controller = new AbortController();
    const call = isolator.run(
      (file: string) => {
        // Not import(): Vitest rewrites it in test sources, and the function travels as source.
        const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
        fs.writeFileSync(file, "in");
        for (;;);
      },
      { args: [marker], signal: controller.signal },
    );
    // Abort once the function is certainly running: the test's own timeout bounds the wait.
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 10));
    controller.abort(new Error("user cancelled"));
    const error = await failure(call);
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ABORTED", execution: "may-have-run" });
    const before = await failure(isolator.run(() => 1, { signal: AbortSignal.abort() }));
    expect(before).toMatchObject({ code: "ERR_MEMKIT_ABORTED", execution: "not-run" });
  });

  it("unserializable arguments (not run) and results (ran) name the offending path", async () => {
    const args = await failure(isolator.run((x: unknown) => x, { args: [{ ok: 1, handlers: [1, () => 2] }] }));
    expect(args).toMatchObject({
      code: "ERR_MEMKIT_NOT_SERIALIZABLE",
      path: "args[0].handlers[1]",
      execution: "not-run",
    });
    const result = await failure(isolator.run(() => ({ data: 1, callback: () => 1 })));
    expect(result).toMatchObject({ code: "ERR_MEMKIT_NOT_SERIALIZABLE", path: "result.callback", execution: "ran" });
  });

  it("runs a module export", async () => {
    const task = new URL("../fixtures/isolate-task.mjs", import.meta.url);
    expect(await isolator.run({ module: task, export: "digest" }, { args: ["abc"] })).toMatch(/^ba7816bf/);
    expect(await isolator.run({ module: task }, { args: [7] })).toMatchObject({ square: 49 });
  });

  it("an isolated function can itself isolate (nested)", async () => {
    // Built from text: Vitest rewrites import() in test sources, and the function travels as source.
    // biome-ignore lint/security/noGlobalEval: builds a test function from fixed text so Vitest cannot rewrite it
    const evaluate = globalThis.eval;
    const nested = evaluate(`(async () => {
      const { isolate } = await import("memkit/isolate");
      return isolate(() => "from the grandchild", { output: "ignore" });
    })`) as () => Promise<string>;
    expect(await isolator.run(nested)).toBe("from the grandchild");
  });

  it("reports stats on request", async () => {
    const { value, stats } = await isolator.runWithStats(() => new Array(100_000).fill(1).length);
    expect(value).toBe(100_000);
    expect(stats.wallMs).toBeGreaterThan(0);
    expect(stats.cpuMs).toBeGreaterThanOrEqual(0);
    expect(stats.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(stats.heapUsedBytes).toBeGreaterThan(0);
  });
});

describe("functions that cannot travel", () => {
  const isolator = make("process", { spares: 0 });
  it.each([
    ["native", Math.max],
    ["bound", function named() {}.bind(null)],
    ["class", class Foo {}],
    ["not a function", 42],
  ])("%s -> ERR_MEMKIT_ISOLATE_INVALID_FUNCTION (not run)", async (_name, fn) => {
    const error = await failure(isolator.run(fn as () => unknown));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_INVALID_FUNCTION", execution: "not-run" });
  });

  it("method shorthand travels", async () => {
    const tasks = {
      double(n: number) {
        return n * 2;
      },
    };
    expect(await isolator.run(tasks.double, { args: [21] })).toBe(42);
  });
});

describe("reuse policy", () => {
  it("fresh by default: every call gets a new process", async () => {
    const isolator = make("process", { spares: 1 });
    const pids = [];
    for (let i = 0; i < 3; i++) pids.push(await isolator.run(() => process.pid));
    expect(new Set(pids).size).toBe(3);
  });

  it("reuse: { maxCalls: 3 } serves three calls per child, then hands over to a started replacement", async () => {
    const isolator = make("process", { spares: 1, reuse: { maxCalls: 3 } });
    const pids = [];
    for (let i = 0; i < 3; i++) pids.push(await isolator.run(() => process.pid));
    // The replacement boots beside the old child, which serves on until it is ready.
    await isolator.warm();
    pids.push(await isolator.run(() => process.pid));
    expect(pids[0]).toBe(pids[1]);
    expect(pids[1]).toBe(pids[2]);
    expect(pids[3]).not.toBe(pids[0]);
  });

  it("reuse: heap growth past maxHeapGrowthMb recycles the child", async () => {
    const isolator = make("worker", { spares: 0, reuse: { maxHeapGrowthMb: 5 } });
    const grow = () => {
      const g = globalThis as { keep?: number[][] };
      g.keep ??= [];
      g.keep.push(new Array(2_000_000).fill(1.5));
      return g.keep.length;
    };
    const sizes = [];
    for (let i = 0; i < 2; i++) sizes.push(await isolator.run(grow));
    await isolator.warm();
    sizes.push(await isolator.run(grow));
    expect(sizes).toEqual([1, 2, 1]);
  });
});
