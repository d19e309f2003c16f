import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const scenarios = fileURLToPath(new URL("../fixtures/sweep-scenarios.mjs", import.meta.url));
const memkit = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

describe("memkit sweep", () => {
  it("a handled scenario exits 0 and says every site is handled", () => {
    const result = memkit("sweep", `${scenarios}#handled`);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("every site handled");
  });

  it("a leaky scenario exits 1 and names the leak; --json is parseable", () => {
    const result = memkit("sweep", `${scenarios}#leaky`, "--json");
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.runs.map((r: { outcome: string }) => r.outcome)).toEqual(["alloc-error", "leak"]);
  });

  it("--seed is carried into the report and printed; a bad seed exits 2", () => {
    const json = memkit("sweep", `${scenarios}#handled`, "--seed", "4242", "--json");
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).seed).toBe(4242);
    expect(memkit("sweep", `${scenarios}#handled`, "--seed", "4242").stdout).toContain("seed 4242");
    for (const bad of ["abc", "1.5", "-1", "4294967296"]) {
      expect(memkit("sweep", `${scenarios}#handled`, "--seed", bad).status).toBe(2);
    }
  });

  it("bad options exported with the scenario exit 2 with the option named", () => {
    const result = memkit("sweep", `${scenarios}#badOptions`);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("modes");
  });

  it("a missing export or module exits 2", () => {
    expect(memkit("sweep", `${scenarios}#nope`).status).toBe(2);
    expect(memkit("sweep", "/no/such/file.mjs").status).toBe(2);
    expect(memkit("sweep").status).toBe(2);
  });
});
