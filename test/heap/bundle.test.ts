import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// rolldown ships with vite (a devDependency of vitest); skip with a message if it is not there.
const rolldown = await import("rolldown").then(
  (m) => m.rolldown,
  () => undefined,
);

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  sideEffects: unknown;
};

describe("memkit/heap bundled", () => {
  it.skipIf(rolldown === undefined)(
    "Heap.create works after tree-shaking with the package's sideEffects field",
    async () => {
      if (rolldown === undefined) return;
      // Inside the package, so "memkit/heap" resolves by self-reference as it would for a user.
      const cache = join(process.cwd(), "node_modules", ".cache");
      mkdirSync(cache, { recursive: true });
      const dir = mkdtempSync(join(cache, "memkit-bundle-"));
      try {
        const entry = join(dir, "entry.mjs");
        writeFileSync(
          entry,
          'import { Heap } from "memkit/heap";\n' +
            'for (const strategy of ["tlsf", "arena", "pool"]) { const h = Heap.create({ strategy }); h.free(h.malloc(8)); }\n' +
            'console.log("ok");\n',
        );
        const bundle = await rolldown({ input: entry, platform: "browser", cwd: process.cwd() });
        const out = join(dir, "out.mjs");
        await bundle.write({ file: out, format: "esm" });
        expect(execFileSync(process.execPath, [out], { encoding: "utf8" }).trim()).toBe("ok");
        // Tree-shaken, not everything: the isolate module never reaches a heap-only bundle.
        expect(readFileSync(out, "utf8")).not.toContain("worker_threads");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it("package.json does not claim the whole package is free of side effects", () => {
    expect(packageJson.sideEffects).not.toBe(false);
    expect(packageJson.sideEffects).toContain("./dist/*/errors.js");
  });
});

describe("memkit/heap where SharedArrayBuffer does not exist (a page that is not cross-origin isolated)", () => {
  const script = `
    delete globalThis.SharedArrayBuffer;
    const { Heap } = await import("memkit/heap");
    const heap = Heap.create();
    heap.free(heap.malloc(64));
    const fixed = Heap.over(new ArrayBuffer(1 << 16));
    fixed.free(fixed.malloc(64));
    let code;
    try { Heap.create({ shared: true }); } catch (e) { code = e.code; }
    console.log(JSON.stringify({ ok: true, code }));
  `;

  it("a plain heap works and shared: true throws a coded error", () => {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ ok: true, code: "ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE" });
  });
});
