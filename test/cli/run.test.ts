import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const memkit = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
const node = (...args: string[]) => spawnSync(process.execPath, args, { encoding: "utf8" });

describe("memkit run", () => {
  it("runs a script isolated, passes its arguments and exits 0; the report goes to stderr", () => {
    const result = memkit("run", fixture("run-script-ok.mjs"), "a", "b");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("args: a,b\n");
    expect(result.stderr).toContain("ok: completed");
  });

  it.each([
    ["ok", 0, "ok"],
    ["throw", 1, "threw"],
    ["reject", 1, "threw"],
    ["exit", 5, "exited"],
  ])("runs until the event loop is empty like node: late %s -> status %i (%s)", (late, status, outcome) => {
    const plain = node(fixture("run-script-late.mjs"), late);
    const result = memkit("run", "--json", fixture("run-script-late.mjs"), late);
    expect(result.status).toBe(status);
    // --json: stdout is exactly one JSON document; the script's own output went to stderr.
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ outcome, status, exitCode: plain.status });
    expect(result.stderr).toContain("late timer ran");
  });

  it.each(["process", "worker"])("late throws and rejections are 'threw' in %s mode", (mode) => {
    for (const late of ["throw", "reject"]) {
      const result = memkit("run", "--json", "--mode", mode, fixture("run-script-late.mjs"), late);
      expect(result.status).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({ outcome: "threw", detail: expect.stringContaining("late") });
    }
  });

  it("an out-of-memory script exits 3 and says so, in JSON too", () => {
    const result = memkit("run", "--json", "--memory", "64", fixture("run-script-oom.mjs"));
    expect(result.status).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: "out-of-memory", mode: "process" });
  });

  it("a timeout exits 6; a missing script exits 8 (not run)", () => {
    expect(memkit("run", "--timeout", "0.3", fixture("run-script-oom.mjs")).status).toBe(6);
    const missing = memkit("run", "--json", fixture("no-such-script.mjs"));
    expect(missing.status).toBe(8);
    expect(JSON.parse(missing.stdout)).toMatchObject({ outcome: "not-run" });
  });

  it("bad flags exit 2 with a hint; --help lists the exit statuses", () => {
    const result = memkit("run", "--memory", "lots", fixture("run-script-ok.mjs"));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--memory");
    expect(memkit("run").status).toBe(2);
    const help = memkit("run", "--help");
    expect(help.status).toBe(0);
    for (const line of ["0  ok", "1  threw", "3  out-of-memory", "5  exited", "6  timeout", "8  not-run"])
      expect(help.stdout).toContain(line);
  });
});
