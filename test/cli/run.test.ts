import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** Runs `memkit ...args` and resolves with its status and output (tests run side by side). */
function memkit(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe.concurrent("memkit run", () => {
  it("runs a script isolated, passes its arguments and exits 0; the report goes to stderr", async () => {
    const result = await memkit("run", fixture("run-script-ok.mjs"), "a", "b");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("args: a,b\n");
    expect(result.stderr).toContain("ok: completed");
  });

  // What `node run-script-late.mjs <late>` does: exit 0, throw -> 1, unhandled rejection -> 1, process.exit(9) -> 9.
  it.each([
    ["ok", 0, "ok", 0],
    ["throw", 1, "threw", 1],
    ["reject", 1, "threw", 1],
    ["exit", 5, "exited", 9],
  ])("runs until the event loop is empty like node: late %s -> status %i (%s)", async (late, status, outcome, node) => {
    const result = await memkit("run", "--json", fixture("run-script-late.mjs"), late);
    expect(result.status).toBe(status);
    // --json: stdout is exactly one JSON document; the script's own output went to stderr.
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome, status, exitCode: node });
    expect(result.stderr).toContain("late timer ran");
  });

  it("a late unhandled rejection is 'threw' in worker mode too", async () => {
    const result = await memkit("run", "--json", "--mode", "worker", fixture("run-script-late.mjs"), "reject");
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: "threw", detail: expect.stringContaining("late") });
  });

  it("an out-of-memory script exits 3 and says so, in JSON too", async () => {
    const result = await memkit("run", "--json", "--memory", "64", fixture("run-script-oom.mjs"));
    expect(result.status).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: "out-of-memory", mode: "process" });
  });

  it("a timeout exits 6; a missing script exits 8 (not run)", async () => {
    expect((await memkit("run", "--timeout", "0.3", fixture("run-script-oom.mjs"))).status).toBe(6);
    const missing = await memkit("run", "--json", fixture("no-such-script.mjs"));
    expect(missing.status).toBe(8);
    expect(JSON.parse(missing.stdout)).toMatchObject({ outcome: "not-run" });
  });

  it("bad flags exit 2 with a hint; --help lists the exit statuses", async () => {
    const result = await memkit("run", "--memory", "lots", fixture("run-script-ok.mjs"));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--memory");
    expect((await memkit("run")).status).toBe(2);
    const help = await memkit("run", "--help");
    expect(help.status).toBe(0);
    for (const line of ["0  ok", "1  threw", "3  out-of-memory", "5  exited", "6  timeout", "8  not-run"])
      expect(help.stdout).toContain(line);
  });
});
