import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("../../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { bin: { memkit: string } };

/** The `memkit` executable as the package ships it (package.json `bin`, built by `npm test`). */
export const memkitBin: string = fileURLToPath(new URL(manifest.bin.memkit, root));

/** Runs the built `memkit` with `args` in a child Node and returns what it printed and its status. */
export function memkit(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [memkitBin, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
}
