import { spawnSync } from "node:child_process";

/** A JavaScript runtime other than Node that some tests run memkit under. */
export type OtherRuntime = "deno" | "bun";

/**
 * Where the `deno` or `bun` binary is: `MEMKIT_DENO` / `MEMKIT_BUN` when set, else the name on
 * `PATH`; `undefined` when neither answers `--version`, so the caller can skip and say why.
 * CI installs both (`.ci/run`); a developer without them sees the tests skipped, never failed.
 */
export function findRuntime(runtime: OtherRuntime): string | undefined {
  const candidate = process.env[`MEMKIT_${runtime.toUpperCase()}`] ?? runtime;
  const probe = spawnSync(candidate, ["--version"], { encoding: "utf8", timeout: 20_000 });
  return probe.status === 0 ? candidate : undefined;
}
