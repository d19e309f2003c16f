import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const memkit = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

describe("memkit run", () => {
  it("runs a script isolated, passes its arguments and exits 0", () => {
    const result = memkit("run", fixture("run-script-ok.mjs"), "a", "b");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("args: a,b");
    expect(result.stdout).toContain("ok: completed");
  });

  it("an out-of-memory script exits 3 and says so, in JSON too", () => {
    const result = memkit("run", "--json", "--memory", "64", fixture("run-script-oom.mjs"));
    expect(result.status).toBe(3);
    const report = JSON.parse(result.stdout.trim().split("\n").pop() as string);
    expect(report).toMatchObject({ outcome: "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY", mode: "process" });
  });

  it("a timeout exits 6", () => {
    expect(memkit("run", "--timeout", "0.3", fixture("run-script-oom.mjs")).status).toBe(6);
  });

  it("bad flags exit 2 with a hint", () => {
    const result = memkit("run", "--memory", "lots", fixture("run-script-ok.mjs"));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--memory");
    expect(memkit("run").status).toBe(2);
  });
});
