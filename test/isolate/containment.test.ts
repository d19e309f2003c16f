import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Isolator } from "../../dist/isolate/index.js";
import { eventually, isRunning, openFds, zombieChildren } from "../helpers/process-state.js";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const isolators: Isolator[] = [];
function make(extra: ConstructorParameters<typeof Isolator>[0] = {}): Isolator {
  const isolator = new Isolator({ output: "ignore", ...extra });
  isolators.push(isolator);
  return isolator;
}
afterAll(async () => {
  await Promise.all(isolators.map((i) => i.close()));
});

async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error("expected the call to fail");
}

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

  it("a caller killed with SIGKILL mid-call takes its busy child with it within ~1 s", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "memkit-orphan-")), "pid");
    const caller = spawn(process.execPath, [fixture("isolate-caller.mjs"), pidFile], { stdio: "ignore" });
    const started = await eventually(() => {
      try {
        return readFileSync(pidFile, "utf8").length > 0;
      } catch {
        return false;
      }
    }, 10_000);
    expect(started).toBe(true);
    const childPid = Number(readFileSync(pidFile, "utf8"));
    expect(isRunning(childPid)).toBe(true);
    caller.kill("SIGKILL");
    const killedAt = Date.now();
    expect(await eventually(() => !isRunning(childPid), 3000)).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(1500);
  });

  it("spares never keep the caller's event loop alive", async () => {
    const started = Date.now();
    const child = spawn(process.execPath, [fixture("isolate-spares-exit.mjs")], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(out.trim()).toBe("done");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("200 concurrent calls with random failures all settle correctly; no zombies; fds back to baseline", async () => {
    const isolator = make({ spares: 2, maxConcurrency: 8 });
    await isolator.run(() => 0); // warm up so lazily opened fds are not counted as leaks
    const fdsBefore = openFds();
    const kinds = ["ok", "throw", "exit", "abort", "unserializable"] as const;
    const plan = Array.from({ length: 200 }, (_, i) => kinds[(i * 7) % kinds.length] as (typeof kinds)[number]);
    const results = await Promise.allSettled(
      plan.map((kind, i) =>
        isolator.run(
          (k: string, n: number) => {
            if (k === "throw") throw Object.assign(new Error(`failure ${n}`), { n });
            if (k === "exit") process.exit(4);
            if (k === "abort") process.abort();
            if (k === "unserializable") return { fn: () => n };
            return n * 2;
          },
          { args: [kind, i] as [string, number] },
        ),
      ),
    );
    results.forEach((result, i) => {
      const kind = plan[i] as (typeof kinds)[number];
      if (kind === "ok") expect(result).toEqual({ status: "fulfilled", value: i * 2 });
      else {
        expect(result.status).toBe("rejected");
        const reason = (result as PromiseRejectedResult).reason as Record<string, unknown>;
        const expected = {
          throw: { n: i },
          exit: { code: "ERR_MEMKIT_ISOLATE_EXITED", exitCode: 4 },
          abort: { code: "ERR_MEMKIT_ISOLATE_CRASHED", signal: "SIGABRT" },
          unserializable: { code: "ERR_MEMKIT_NOT_SERIALIZABLE", path: "result.fn" },
        }[kind as Exclude<typeof kind, "ok">];
        expect(reason).toMatchObject(expected);
      }
    });
    expect(await eventually(() => zombieChildren().length === 0, 3000)).toBe(true);
    expect(await eventually(() => openFds() <= fdsBefore + 2, 3000)).toBe(true);
  }, 120_000);
});
