import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// `npm run example -- <name>` runs dist-examples/run.js (pretest builds it): each example checks
// what it shows, prints "ok"/"BAD" lines and exits 1 when something is BAD.
const runner = fileURLToPath(new URL("../../dist-examples/run.js", import.meta.url));
const run = (name?: string) =>
  spawnSync(process.execPath, name === undefined ? [runner] : [runner, name], { encoding: "utf8" });

describe("npm run example -- <name>", () => {
  it.each(["pam", "json", "counter"])("%s runs, proves what it prints, and exits 0", (name) => {
    const result = run(name);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ok /m);
    expect(result.stdout).not.toMatch(/^BAD/m);
  });

  it("with no name it lists the examples; an unknown name exits 2", () => {
    expect(run().stdout).toContain("pam");
    expect(run("nope").status).toBe(2);
  });
});
