// Fork mode against real forked children: values, the outcome matrix with exact execution
// states, limits, and what dies with the caller. Linux only (fork mode throws elsewhere).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { executionOf } from "memkit/isolate";
import { describe, expect, it } from "vitest";
import { isRunning } from "../helpers/process-state.js";
import { findRuntime, type OtherRuntime } from "../helpers/runtimes.js";
import { failure, isolatorMaker, markFile, runScript, spinAfterMark } from "./isolators.js";
import { mixedCalls, until } from "./mixed-calls.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const linux = process.platform === "linux" && process.arch === "x64";
const make = isolatorMaker({ mode: "fork", spares: 1 });

describe("the fork addon", () => {
  it("the committed binary was built from the committed source (its embedded sha256 matches)", () => {
    const source = readFileSync(join(root, "native/fork/fork.c"));
    const addon = createRequire(import.meta.url)(join(root, "prebuilds/linux-x64/memkit-fork.node")) as {
      sourceSha256: string;
    };
    expect(addon.sourceSha256).toBe(createHash("sha256").update(source).digest("hex"));
  });

  it("a missing addon is IsolateForkUnavailableError (not-run, how to build it), and fallback: process runs anyway", () => {
    const script = `
      const { Isolator, isolate, shutdownIsolate } = await import("memkit/isolate");
      let code;
      try { new Isolator({ mode: "fork" }); } catch (e) { code = [e.code, e.reason, e.execution, e.message.includes("node-gyp")]; }
      const fallback = new Isolator({ mode: "fork", fallback: "process", output: "ignore" });
      const flags = await fallback.run(() => process.execArgv);
      await fallback.close();
      // isolate() takes the same option (it used not to pass it on).
      const viaIsolate = await isolate(() => process.execArgv, { mode: "fork", fallback: "process", output: "ignore" });
      await shutdownIsolate();
      console.log(JSON.stringify({ code, flags, viaIsolate }));`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, MEMKIT_FORK_ADDON: join(root, "no-such-addon.node") },
    });
    expect(run.stderr).toBe("");
    const out = JSON.parse(run.stdout) as { code: unknown[]; flags: string[]; viaIsolate: string[] };
    expect(out.code).toEqual(["ERR_MEMKIT_ISOLATE_FORK_UNAVAILABLE", "missing-addon", "not-run", true]);
    expect(out.flags).not.toContain("--single-threaded");
    expect(out.viaIsolate).not.toContain("--single-threaded");
  });
});

describe.runIf(linux)("fork mode runs each call in a fresh copy-on-write child", () => {
  const isolator = make();

  it("returns values of sync and async functions, from a child of the template, never the same twice", async () => {
    expect(await isolator.run((a: number, b: number) => a + b, { args: [2, 3] })).toBe(5);
    const seen = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const info = await isolator.run(async () => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        const g = globalThis as { touched?: number };
        const before = g.touched;
        g.touched = 1;
        return { pid: process.pid, parent: process.ppid, before, flags: process.execArgv };
      });
      expect(info.before).toBeUndefined();
      expect(info.parent).not.toBe(process.pid);
      expect(info.flags).toContain("--single-threaded");
      seen.add(info.pid);
    }
    expect(seen.size).toBe(5);
  });

  it("structured-clone values and large typed arrays (through shared memory) come back intact", async () => {
    const value = await isolator.run(() => ({ m: new Map([[1, 2n]]), d: new Date(0), s: new Set(["x"]) }));
    expect(value).toEqual({ m: new Map([[1, 2n]]), d: new Date(0), s: new Set(["x"]) });
    const big = await isolator.run(() => new Float64Array(1 << 18).fill(1.5));
    expect(big).toBeInstanceOf(Float64Array);
    expect(big.length).toBe(1 << 18);
    expect(big[12345]).toBe(1.5);
  });

  it("a module task runs; later calls get it preloaded by the template (imported by the child's parent)", async () => {
    const task = { module: new URL("../fixtures/isolate-fork-module.mjs", import.meta.url), export: "where" };
    const first = await isolator.run<{ importedBy: number; self: number; parent: number }>(task);
    expect(first.importedBy).toBe(first.self);
    let later = first;
    // The template that preloads the module starts in the background; the test's timeout bounds this.
    while (later.importedBy !== later.parent) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      later = await isolator.run<{ importedBy: number; self: number; parent: number }>(task);
    }
    expect(later.importedBy).not.toBe(later.self);
  });
});

describe.runIf(linux)("fork mode outcomes, with exact execution states", () => {
  const isolator = make();

  it("a throw is the error itself, ran; process.exit(3) is IsolateExitedError, ran", async () => {
    const thrown = await failure(
      isolator.run(() => {
        throw new TypeError("bad input");
      }),
    );
    expect(thrown).toBeInstanceOf(TypeError);
    expect(executionOf(thrown)).toBe("ran");
    const exited = await failure(isolator.run(() => process.exit(3)));
    expect(exited).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_EXITED", exitCode: 3, execution: "ran" });
  });

  it("a promise nothing can settle (the child's event loop ran dry) is IsolateExitedError, ran, not a hang", async () => {
    const error = await failure(isolator.run(() => new Promise(() => {})));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_EXITED", exitCode: 0, execution: "ran" });
  });

  it("abort() is SIGABRT and a real stack-overflow segfault is SIGSEGV, both may-have-run", async () => {
    const aborted = await failure(isolator.run(() => process.abort()));
    expect(aborted).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", signal: "SIGABRT", execution: "may-have-run" });
    const deep = make({ spares: 0, execArgv: ["--stack-size=60000"] });
    const segv = await failure(
      deep.run(() => {
        const deeper = (n: number): number => deeper(n + 1) + 1;
        return deeper(0);
      }),
    );
    expect(segv).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", signal: "SIGSEGV", execution: "may-have-run" });
  });

  it("heap exhaustion under memoryLimitMb is out-of-memory (heap); native growth is out-of-memory (rss)", async () => {
    const limited = make({ memoryLimitMb: 64 });
    const heap = await failure(
      limited.run(() => {
        const keep: number[][] = [];
        for (;;) keep.push(new Array(100_000).fill(1.5));
      }),
    );
    expect(heap).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY", kind: "heap", execution: "may-have-run" });
    const rss = await failure(
      limited.run(() => {
        const keep: Buffer[] = [];
        for (;;) keep.push(Buffer.alloc(8 * 1024 * 1024, 1));
      }),
    );
    expect(rss).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY", kind: "rss", limitMb: 64 });
  });

  it("the resident-memory limit counts a child's growth from the template's anonymous memory (104 MiB held > 64 + 32)", async () => {
    const limited = make({ memoryLimitMb: 64 });
    const error = await failure(
      limited.run(async () => {
        const keep = Array.from({ length: 13 }, () => Buffer.alloc(8 * 1024 * 1024, 1));
        await new Promise((resolve) => setTimeout(resolve, 500));
        return keep.length;
      }),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY", kind: "rss", execution: "may-have-run" });
  });

  it("one huge allocation is the RangeError itself, ran", async () => {
    const error = await failure(isolator.run(() => new ArrayBuffer(2 ** 42)));
    expect(error).toBeInstanceOf(RangeError);
    expect(executionOf(error)).toBe("ran");
  });

  it("a busy loop past timeoutMs is stopped with its process group (a sleep it started too)", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "memkit-fork-group-")), "pid");
    const error = await failure(
      isolator.run(
        (file: string) => {
          const { spawn } = process.getBuiltinModule("node:child_process") as typeof import("node:child_process");
          const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
          fs.writeFileSync(file, String(spawn("sleep", ["30"], { stdio: "ignore" }).pid));
          for (;;);
        },
        { args: [pidFile], timeoutMs: 1500 },
      ),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_TIMEOUT", execution: "may-have-run" });
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    await until(() => !isRunning(grandchild));
  });

  it("an abort signal stops a running call (may-have-run); an aborted signal never forks (not-run)", async () => {
    const controller = new AbortController();
    const mark = markFile();
    const running = isolator.run(spinAfterMark, { args: [mark.path], signal: controller.signal });
    await until(mark.written);
    controller.abort();
    expect(await failure(running)).toMatchObject({ code: "ERR_MEMKIT_ABORTED", execution: "may-have-run" });
    const early = await failure(isolator.run(() => 1, { signal: AbortSignal.abort() }));
    expect(early).toMatchObject({ code: "ERR_MEMKIT_ABORTED", execution: "not-run" });
  });

  it("unserializable arguments are not-run; an unserializable result is ran, with its path", async () => {
    const args = await failure(isolator.run((f: unknown) => f, { args: [{ f: () => 1 }] }));
    expect(args).toMatchObject({ code: "ERR_MEMKIT_NOT_SERIALIZABLE", execution: "not-run", path: "args[0].f" });
    const result = await failure(isolator.run(() => ({ ok: 1, f: () => 1 })));
    expect(result).toMatchObject({ code: "ERR_MEMKIT_NOT_SERIALIZABLE", execution: "ran", path: "result.f" });
  });
});

describe.runIf(linux)("fork mode with several isolators sharing one template", () => {
  it("calls of two isolators (both numbering their calls from 1) never take each other's answers", async () => {
    const options = { env: { ...process.env, MEMKIT_TEST_SHARED: String(Math.random()) } };
    const [a, b] = [make(options), make(options)];
    expect(await Promise.all([a.run(() => "a"), b.run(() => "b")])).toEqual(["a", "b"]);
    const c = make(options);
    const d = make(options);
    expect(await c.run(() => "stale")).toBe("stale");
    // d's first call has the same number as c's, and leaves no answer of its own.
    expect(await failure(d.run(() => process.exit(0)))).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_EXITED" });
  });
});

describe.runIf(linux)("fork mode under concurrent calls", () => {
  it("40 concurrent mixed calls each settle as themselves; no zombies; fds back to baseline", async () => {
    await mixedCalls(make({ maxConcurrency: 8 }), 40);
  });
});

describe.runIf(linux)("fork mode and the caller's death", () => {
  it("fork mode never keeps the caller's event loop alive (no close() needed to exit)", async () => {
    expect(await runScript(fixture("isolate-fork-exit.mjs"))).toEqual({ code: 0, stdout: "done" });
  });

  it("a caller killed with SIGKILL mid-call takes the forked child, its sleep, the template and the scratch files with it", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "memkit-fork-orphan-")), "pid");
    const caller = spawn(process.execPath, [fixture("isolate-fork-caller.mjs"), pidFile], { stdio: "ignore" });
    const written = () => {
      try {
        return readFileSync(pidFile, "utf8").split(" ").length === 3;
      } catch {
        return false;
      }
    };
    await until(written);
    const pids = readFileSync(pidFile, "utf8").split(" ").map(Number);
    for (const pid of pids) expect(isRunning(pid)).toBe(true);
    const scratch = () => readdirSync("/dev/shm").filter((name) => name.startsWith(`memkit-isolate-${caller.pid}-`));
    expect(scratch().length).toBeGreaterThan(0);
    caller.kill("SIGKILL");
    await until(() => pids.every((pid) => !isRunning(pid)) && scratch().length === 0);
  });
});

describe.each<OtherRuntime>(["bun", "deno"])("fork mode under %s", (runtime) => {
  const binary = findRuntime(runtime);
  const title = binary === undefined ? `(skipped: ${runtime} not found)` : "";
  it.skipIf(binary === undefined)(
    `is refused with IsolateForkUnavailableError, and falls back when asked ${title}`,
    () => {
      const script = fixture("isolate-fork-elsewhere.mjs");
      const args = runtime === "deno" ? ["run", "-A", script] : [script];
      const result = spawnSync(binary as string, args, { cwd: root, encoding: "utf8", timeout: 60_000 });
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout.trim().split("\n").pop() as string)).toEqual({
        refused: ["ERR_MEMKIT_ISOLATE_FORK_UNAVAILABLE", "platform", "not-run"],
        value: 5,
      });
    },
  );
});
