// memkit/isolate under Bun and Deno: the same smoke script, each runtime when it is installed.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findRuntime, type OtherRuntime } from "../helpers/runtimes.js";

const smoke = fileURLToPath(new URL("../fixtures/isolate-smoke.mjs", import.meta.url));
const commands: Record<OtherRuntime, string[]> = { bun: [smoke], deno: ["run", "-A", smoke] };

describe.concurrent.each<OtherRuntime>(["bun", "deno"])("isolate under %s", (runtime) => {
  const binary = findRuntime(runtime);
  const title =
    binary === undefined ? `(skipped: ${runtime} not found on PATH or in MEMKIT_${runtime.toUpperCase()})` : "";
  it.skipIf(binary === undefined)(`process and worker modes return, revive throws and report exits ${title}`, () => {
    const result = spawnSync(binary as string, commands[runtime], { encoding: "utf8", timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").pop() as string)).toEqual({
      process: 5,
      processThrew: "TypeError",
      processExit: "ERR_MEMKIT_ISOLATE_EXITED",
      worker: 5,
      workerThrew: "TypeError",
    });
  });
});
