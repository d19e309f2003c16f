import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { findRuntime, type OtherRuntime } from "../helpers/runtimes.js";
import { exampleNames } from "./bundle.js";
import { toolOrSkip } from "./tools.js";

// Deliverable 3 of issue #14: each module's README example, run from the built package under Deno
// and Bun (`npm run test:runtimes`). Locally a missing runtime skips with a message; CI installs both.

const run = promisify(execFile);
const runner = fileURLToPath(new URL("./run-example.mjs", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));

const argsFor: Record<OtherRuntime, string[]> = {
  // -A: the examples read the .wasm fixture, start child processes and workers, and read env.
  deno: ["run", "-A", "--no-lock", runner],
  bun: [runner],
};

for (const runtime of ["deno", "bun"] as const) {
  const binary = toolOrSkip(runtime, findRuntime(runtime), `npm install -g ${runtime}`);
  describe.skipIf(binary === undefined)(`${runtime}: each README example runs from the built package`, () => {
    for (const name of exampleNames) {
      it(name, async () => {
        const { stdout } = await run(binary as string, [...argsFor[runtime], name], {
          cwd: root,
          timeout: 90_000,
          // No update check or permission prompt: CI has no terminal and reaches only the npm registry.
          env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" },
        });
        const line = stdout.trim().split("\n").pop() ?? "";
        expect(JSON.parse(line)).toMatchObject({ example: name, ok: true });
      });
    }
  });
}
