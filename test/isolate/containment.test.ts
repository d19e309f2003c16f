import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isRunning } from "../helpers/process-state.js";
import { failure, isolatorMaker, runScript } from "./isolators.js";
import { mixedCalls, until } from "./mixed-calls.js";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const make = isolatorMaker();

describe("process mode contains what would kill the caller", () => {
  it("process.abort() is IsolateCrashedError with SIGABRT and stderr", async () => {
    const error = await failure(make({ spares: 0 }).run(() => process.abort()));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", signal: "SIGABRT", execution: "may-have-run" });
  });

  it("a real segmentation fault (stack overflow past the OS stack) is SIGSEGV", async () => {
    const isolator = make({ spares: 0, execArgv: ["--stack-size=60000"] });
    const error = await failure(
      isolator.run(() => {
        const deeper = (n: number): number => deeper(n + 1) + 1;
        return deeper(0);
      }),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", signal: "SIGSEGV" });
  });

  it("native Buffer growth past the resident-memory limit is IsolateOutOfMemoryError (rss)", async () => {
    const isolator = make({ spares: 0, memoryLimitMb: 64 });
    const error = await failure(
      isolator.run(() => {
        const keep: Buffer[] = [];
        for (;;) keep.push(Buffer.alloc(8 * 1024 * 1024, 1));
      }),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY", kind: "rss", limitMb: 64 });
    expect(error.peakRssMb).toBeGreaterThan(64);
  });

  it("the caller's resident memory is unchanged after a call that leaked 500 MB", async () => {
    const isolator = make({ spares: 0 });
    const before = process.memoryUsage().rss;
    const leaked = await isolator.run(() => {
      const g = globalThis as { hoard?: Buffer[] };
      g.hoard = [];
      for (let i = 0; i < 50; i++) g.hoard.push(Buffer.alloc(10 * 1024 * 1024, 7));
      return g.hoard.length * 10;
    });
    expect(leaked).toBe(500);
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * 1024 * 1024);
  });

  // With `sh` on PATH the caller's reaper acts; without it each child's watchdog thread does.
  // A reaper that died first (killed on its own) hands its children to their own watchdogs.
  it.each([
    ["the reaper", process.env.PATH ?? "", []],
    ["the children's watchdog threads (no sh on PATH)", "/nonexistent", []],
    ["the children's watchdog threads (the reaper was killed first)", process.env.PATH ?? "", ["kill-reaper"]],
  ])(
    "a caller killed with SIGKILL mid-call takes its busy child, the child's own children and its scratch files with it (%s)",
    async (_how, path, extra) => {
      const pidFile = join(mkdtempSync(join(tmpdir(), "memkit-orphan-")), "pid");
      const caller = spawn(process.execPath, [fixture("isolate-caller.mjs"), pidFile, ...extra], {
        stdio: "ignore",
        env: { ...process.env, PATH: path },
      });
      const written = () => {
        try {
          return readFileSync(pidFile, "utf8").includes(" ");
        } catch {
          return false;
        }
      };
      await until(written);
      const [childPid, grandchildPid] = readFileSync(pidFile, "utf8").split(" ").map(Number) as [number, number];
      expect(isRunning(childPid)).toBe(true);
      expect(isRunning(grandchildPid)).toBe(true);
      const scratch = () => readdirSync("/dev/shm").filter((name) => name.startsWith(`memkit-isolate-${caller.pid}-`));
      expect(scratch().length).toBeGreaterThan(0);
      caller.kill("SIGKILL");
      // The watchdog polls every 200 ms; the test's timeout is the bound, not a wall-clock assertion.
      await until(() => !isRunning(childPid) && !isRunning(grandchildPid) && scratch().length === 0);
    },
  );

  it("a timeout kills the child's whole process group (a sleep it started too)", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "memkit-group-")), "pid");
    const error = await failure(
      make({ spares: 0 }).run(
        (file: string) => {
          // Not import(): Vitest rewrites it in test sources, and the function travels as source.
          const { spawn } = process.getBuiltinModule("node:child_process") as typeof import("node:child_process");
          const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
          const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
          fs.writeFileSync(file, String(sleeper.pid));
          for (;;);
        },
        { args: [pidFile], timeoutMs: 500 },
      ),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_TIMEOUT" });
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    await until(() => !isRunning(grandchild));
  });

  it("spares never keep the caller's event loop alive", async () => {
    expect(await runScript(fixture("isolate-spares-exit.mjs"))).toEqual({ code: 0, stdout: "done" });
  });

  it("20 concurrent mixed calls all settle correctly; no zombies; fds back to baseline", async () => {
    await mixedCalls(make({ spares: 2, maxConcurrency: 8 }), 20);
  });
});
