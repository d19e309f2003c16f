import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bundleRoot } from "./bundle.js";

// The README's "At a glance" examples are what a new user copies first: each must compile against
// the published types, as written (strict TypeScript, the package's own tsconfig rules).

const root = fileURLToPath(new URL("../../", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");
const glance = readme.slice(readme.indexOf("## At a glance"), readme.indexOf("## Modules"));
const blocks = [...glance.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
const dir = `${bundleRoot}readme-${process.pid}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README: At a glance", () => {
  it("has one example per public entry point", () => {
    for (const entry of ["memkit/heap", "memkit/fallible", "memkit/isolate", "memkit/once", "memkit/ffi", "memkit"]) {
      expect(blocks.some((block) => block.includes(`from "${entry}"`))).toBe(true);
    }
  });

  it("every example type-checks against the built package", () => {
    mkdirSync(dir, { recursive: true });
    blocks.forEach((block, i) => {
      writeFileSync(`${dir}/example-${i}.mts`, `${block}\nexport {};\n`);
    });
    const tsconfig = {
      extends: "../../tsconfig.base.json",
      compilerOptions: {
        noEmit: true,
        rootDir: ".",
        isolatedDeclarations: false,
        declaration: false,
        declarationMap: false,
      },
      include: ["*.mts"],
    };
    writeFileSync(`${dir}/tsconfig.json`, JSON.stringify(tsconfig));
    const tsc = `${root}node_modules/typescript/bin/tsc`;
    let output = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", `${dir}/tsconfig.json`], { encoding: "utf8", stdio: "pipe" });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe("");
  });
});
