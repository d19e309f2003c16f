// Runs one portable example in this runtime (Node, Deno or Bun) and prints its result as one JSON
// line: `node run-example.mjs heap`. The bundle test runs bundled copies of it the same way.
import { readFileSync } from "node:fs";

const examples = {
  errors: () => import("./examples/errors.mjs"),
  heap: () => import("./examples/heap.mjs"),
  fallible: () => import("./examples/fallible.mjs"),
  isolate: () => import("./examples/isolate.mjs"),
  once: () => import("./examples/once.mjs"),
  ffi: () => import("./examples/ffi.mjs"),
};

const [name, ...flags] = process.argv.slice(2);
const load = examples[name];
if (load === undefined) throw new Error(`no example named ${name}; examples: ${Object.keys(examples).join(", ")}`);
const wasm = readFileSync(new URL("../fixtures/wasm/ownership.wasm", import.meta.url));
const { default: example } = await load();
const result = await example({
  wasm,
  native: flags.includes("--native"),
  mode: flags.includes("--worker") ? "worker" : "process",
});
console.log(JSON.stringify({ example: name, ok: true, result }));
