import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Every module reachable by static import from an entry point of the build, and the `node:`
// specifiers among them: a browser or bundler cannot load those (issue 14).
function nodeImports(entry: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(
      /^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']/gms,
    )) {
      const specifier = match[1] ?? match[2] ?? "";
      if (specifier.startsWith("node:")) found.push(`${file}: ${specifier}`);
      else if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
    }
  };
  visit(entry);
  return found;
}

const dist = (path: string) => fileURLToPath(new URL(`../../dist/${path}`, import.meta.url));

describe("memkit/once and memkit/fallible load without Node built-ins", () => {
  it.each(["once/index.js", "fallible/index.js"])("%s has no static node: import on its path", (entry) => {
    expect(nodeImports(dist(entry))).toEqual([]);
  });

  it("the check itself sees a node: import (the CLI has them)", () => {
    expect(nodeImports(dist("cli/commands/sweep.js")).length).toBeGreaterThan(0);
  });
});
