import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// What `npm pack` would put in the tarball (the build is fresh: `npm test` builds first).
const root = fileURLToPath(new URL("../../", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const [packed] = JSON.parse(
  execFileSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts", "--silent"], { cwd: root, encoding: "utf8" }),
) as [{ files: { path: string }[] }];
const files = new Set(packed.files.map((f) => f.path));
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
};

describe("the published package", () => {
  it("builds before packing, so a fresh clone never ships an empty package", () => {
    expect(manifest.scripts.prepack).toMatch(/npm run build/);
  });

  it("ships every file its exports and bin point at", () => {
    const targets = Object.values(manifest.exports).flatMap((t) => (typeof t === "string" ? [t] : Object.values(t)));
    for (const target of [...targets, ...Object.values(manifest.bin)]) expect(files).toContain(normalize(target));
  });

  it("every shipped source map points at sources that are shipped too", () => {
    const maps = [...files].filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), "utf8")) as { sources: string[] };
      for (const source of sources) expect(files, `${map} -> ${source}`).toContain(join(dirname(map), source));
    }
  });

  it("ships no type declarations for the command line's internals", () => {
    expect([...files].filter((f) => f.startsWith("dist/cli/") && /\.d\.ts(\.map)?$/.test(f))).toEqual([]);
    expect(files).toContain("dist/cli/main.js");
  });

  // repository/homepage/bugs are left out until the project has a public home: a guessed URL
  // would send users to someone else's page.
  it("has no runtime dependencies and ships its changelog and readme", () => {
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest).toMatchObject({ license: "MIT", keywords: expect.any(Array) });
    expect(files).toContain("CHANGELOG.md");
    expect(files).toContain("README.md");
  });
});
