// Writes a WebAssembly binary into a TypeScript module as base64, so it loads the same way in
// Node, browsers, bundlers, Deno and Bun (no file system, no fetch).
// Usage: node scripts/embed-wasm.mjs <in.wasm> <out.ts> <EXPORT_NAME> <description>
import { readFileSync, writeFileSync } from "node:fs";

const [input, output, name, description] = process.argv.slice(2);
const base64 = readFileSync(input).toString("base64");
const lines = base64.match(/.{1,100}/g) ?? [];
writeFileSync(
  output,
  `// Generated: do not edit. ${description}.\n/** @internal */\nexport const ${name}: string =\n${lines
    .map((l) => `  "${l}"`)
    .join(" +\n")};\n`,
);
