/**
 * `npm run bench [-- module...]`: runs each `bench/<module>.bench.ts` (compiled) in its own
 * `node --expose-gc` process so benchmarks do not disturb each other's heaps and JIT state.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".bench.js"))
  .map((f) => f.replace(/\.bench\.js$/, ""))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((m) => !available.includes(m));
if (unknown.length > 0) {
  console.error(`no benchmark named ${unknown.join(", ")}; available: ${available.join(", ") || "(none)"}`);
  process.exit(2);
}
let failed = 0;
for (const module of wanted.length > 0 ? wanted : available) {
  const result = spawnSync(process.execPath, ["--expose-gc", `${here}${module}.bench.js`], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
