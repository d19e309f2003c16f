import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The TypeScript blocks of README.md's `memkit/ffi` section. */
function ffiBlocks(): string[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("### `memkit/ffi`");
  const end = readme.indexOf("\n## ", start);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

describe("README: the memkit/ffi example type-checks as written", () => {
  it("tsc (strict, the package's own settings) accepts every ts block of the section against the built types", () => {
    const blocks = ffiBlocks();
    expect(blocks.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), "memkit-readme-"));
    const files = blocks.map((code, i) => {
      const file = join(dir, `block-${i}.mts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    const base = JSON.parse(readFileSync(join(root, "tsconfig.base.json"), "utf8")) as {
      compilerOptions: Record<string, unknown>;
    };
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          ...base.compilerOptions,
          noEmit: true,
          declaration: false,
          declarationMap: false,
          isolatedDeclarations: false,
          typeRoots: [join(root, "node_modules/@types")],
          // "memkit/ffi" resolves to the build, as it does for a user of the package.
          paths: { "memkit/*": [join(root, "dist/*/index.d.ts")] },
        },
        files,
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], {
      encoding: "utf8",
    });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 60_000);
});
