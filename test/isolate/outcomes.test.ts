// One test per outcome class, each against a real child: what the caller gets, and whether the
// function ran ("not-run" means the caller may safely retry).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { executionOf, type IsolateMode } from "memkit/isolate";
import { describe, expect, it } from "vitest";
import { failure, isolatorMaker } from "./isolators.js";

const modes: IsolateMode[] = ["process", "worker"];
const make = isolatorMaker();

const scratch = mkdtempSync(join(tmpdir(), "memkit-outcomes-"));
function moduleFile(name: string, text: string): URL {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return pathToFileURL(path);
}

describe.each(modes)("outcomes in %s mode", (mode) => {
  // Throws and load failures leave a child healthy: one reused child serves these tests.
  const isolator = make({ mode, spares: 1, reuse: true });

  it("a user's own RangeErrors come back as themselves, marked ran (never as out-of-memory)", async () => {
    const makers: (() => unknown)[] = [
      () => new Array(-1),
      () => new Uint8Array(-1),
      () => new ArrayBuffer(2 ** 42),
      () => {
        throw new RangeError("Allocation failed: my own message");
      },
    ];
    for (const maker of makers) {
      const error = await failure(isolator.run(maker));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.code).toBeUndefined();
      expect(executionOf(error)).toBe("ran");
    }
  });

  it("a bad execArgv flag is IsolateStartError (spawn), not-run", async () => {
    const bad = make({ mode, spares: 0, execArgv: ["--no-such-flag-at-all"] });
    const error = await failure(bad.run(() => 1));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_START_FAILED", phase: "spawn", execution: "not-run" });
  });

  it.each([
    ["a missing file", () => pathToFileURL(join(scratch, "missing.mjs")), "default"],
    ["a missing export", () => moduleFile("no-export.mjs", "export const other = 1;\n"), "run"],
    ["a syntax error", () => moduleFile("syntax.mjs", "export default (() => {\n"), "default"],
    ["a throw at import", () => moduleFile("throws.mjs", 'throw new Error("at import");\n'), "default"],
  ])(
    "a module that fails to load (%s) is IsolateLoadError (load), not-run, with the cause",
    async (_what, url, name) => {
      const error = await failure(isolator.run({ module: url(), export: name }));
      expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_LOAD_FAILED", phase: "load", execution: "not-run" });
      expect(error.cause).toBeInstanceOf(Error);
    },
  );

  it("a timeout that fires while the module is still importing is not-run", async () => {
    const slow = new URL("../fixtures/isolate-slow-import.mjs", import.meta.url);
    const error = await failure(make({ mode, spares: 0 }).run({ module: slow }, { timeoutMs: 300 }));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_TIMEOUT", execution: "not-run" });
  });

  it("a CommonJS module's exports work, and a relative module string resolves against the working directory", async () => {
    expect(process.cwd()).toBe(fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, ""));
    expect(await isolator.run({ module: "./test/fixtures/isolate-task.cjs", export: "twice" }, { args: [21] })).toBe(
      42,
    );
    expect(await isolator.run({ module: "./test/fixtures/isolate-task.mjs" }, { args: [3] })).toMatchObject({
      square: 9,
    });
  });
});

describe("outcomes only a process can show", () => {
  it("printing V8's out-of-memory words is not out-of-memory: the exit is reported as an exit", async () => {
    const error = await failure(
      make({ spares: 0 }).run(() => {
        console.error("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory");
        process.exit(3);
      }),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_EXITED", exitCode: 3, execution: "ran" });
  });

  it("a SIGKILL from inside (not the OOM killer) is a crash, may-have-run", async () => {
    const error = await failure(make({ spares: 0 }).run(() => process.kill(process.pid, "SIGKILL")));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", signal: "SIGKILL", execution: "may-have-run" });
  });

  it("an environment the OS refuses (one variable past 128 KiB) is IsolateStartError (spawn), not-run", async () => {
    const error = await failure(make({ spares: 0, env: { HUGE: "x".repeat(200_000) } }).run(() => 1));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_START_FAILED", phase: "spawn", execution: "not-run" });
    expect(error.cause).toMatchObject({ code: "E2BIG" });
  });

  it("a preload that throws is IsolateStartError (boot), not-run", async () => {
    const preload = join(scratch, "preload.cjs");
    writeFileSync(preload, 'throw new Error("preload failed");\n');
    const error = await failure(make({ spares: 0, execArgv: ["--require", preload] }).run(() => 1));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_START_FAILED", phase: "boot", execution: "not-run" });
    expect(error.stderr).toContain("preload failed");
  });

  it("a ready spare killed in the same tick as the call is a crash marked not-run", async () => {
    const tag = `memkit-spare-${process.pid}-${Date.now()}`;
    const isolator = make({ spares: 1, env: { ...process.env, MEMKIT_TEST_TAG: tag } });
    await isolator.warm();
    const spare = readdirSync("/proc").find((entry) => {
      try {
        return /^\d+$/.test(entry) && readFileSync(`/proc/${entry}/environ`, "utf8").includes(`MEMKIT_TEST_TAG=${tag}`);
      } catch {
        return false;
      }
    });
    expect(spare).toBeDefined();
    process.kill(Number(spare), "SIGKILL");
    const error = await failure(isolator.run(() => 1));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", signal: "SIGKILL", execution: "not-run" });
  });
});
