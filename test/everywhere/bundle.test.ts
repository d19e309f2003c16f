import { execFile } from "node:child_process";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { bundleEntry, bundleExample, bundleRoot, type ExampleName, examplesDir, wasmFixture } from "./bundle.js";

// Deliverable 1 of issue #14: every public entry point bundled by esbuild (minified, tree-shaken),
// then its README example run from the bundle. Node bundles run here; browser bundles are checked
// for Node-only imports here and run in headless Chromium by browser.test.ts.

const run = promisify(execFile);
const outdir = `${bundleRoot}bundle-test-${process.pid}`;
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Runs a Node bundle's default export in a fresh `node`, as an application would, and returns its result. */
async function runNodeBundle(file: string): Promise<unknown> {
  const script = [
    `import { readFileSync } from "node:fs";`,
    `const { default: example } = await import(${JSON.stringify(pathToFileURL(file).href)});`,
    `const result = await example({ wasm: readFileSync(${JSON.stringify(wasmFixture)}) });`,
    `console.log(JSON.stringify(result));`,
  ].join("\n");
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "null");
}

/** What each example returns when it worked (the examples also check themselves and throw). */
const expected: Record<ExampleName, unknown> = {
  errors: { code: "E_BOOM", retries: 3 },
  heap: { doubleFree: "ERR_MEMKIT_DOUBLE_FREE", live: 0 },
  fallible: { kind: "budget" },
  isolate: { n: 1e6, crash: "ERR_MEMKIT_ISOLATE_CRASHED" },
  once: { builds: 1, connects: 1, answer: 42 },
  ffi: { greeting: "Hello, memkit!" },
};

// Cases that fail only because of a defect another branch of issue #14 fixes: each `it.fails`
// passes while the defect is there and turns red once it is fixed, so it cannot be forgotten.
// Flip it to `it` when the fix is merged.
const nodePending: Partial<Record<ExampleName, string>> = {
  isolate: "isolate: children start dist/isolate/child-*.js by URL beside the module; a bundle has no such file",
};
const browserPending: Partial<Record<ExampleName, string>> = {};

describe("bundled with esbuild for Node (minified, tree-shaken), each README example runs", () => {
  for (const name of Object.keys(expected) as ExampleName[]) {
    const pending = nodePending[name];
    const test = pending === undefined ? it : it.fails;
    test(`${name}${pending ? ` (known defect: ${pending})` : ""}`, async () => {
      const { file, errors } = await bundleExample(name, "node", outdir);
      expect(errors).toEqual([]);
      // The isolate example runs a task module by URL, as the README shows; it ships beside the app.
      copyFileSync(`${examplesDir}isolate-task.mjs`, `${outdir}/isolate-task.mjs`);
      expect(await runNodeBundle(file as string)).toMatchObject(expected[name] as object);
    });
  }

  it("isolate with memkit/isolate left external (the documented way to bundle it) runs", async () => {
    const { file, errors } = await bundleExample("isolate", "node", `${outdir}/external`, ["memkit/isolate"]);
    expect(errors).toEqual([]);
    copyFileSync(`${examplesDir}isolate-task.mjs`, `${outdir}/external/isolate-task.mjs`);
    expect(await runNodeBundle(file as string)).toMatchObject(expected.isolate as object);
  });
});

describe("minified bundles keep what errors are called", () => {
  // Minifiers rename classes; memkit registers each error class under its name as a string, so
  // `name` and revival by name survive (a page and its separately bundled workers agree).
  it("an error's name is its class name after minification", async () => {
    const file = `${outdir}/error-names.mjs`;
    const { errors } = await bundleEntry(
      fileURLToPath(new URL("./probes/error-names.mjs", import.meta.url)),
      "node",
      file,
    );
    expect(errors).toEqual([]);
    expect(await runNodeBundle(file)).toEqual({
      name: "InvalidSizeError",
      revivedName: "InvalidSizeError",
      code: "ERR_MEMKIT_INVALID_SIZE",
    });
  });
});

describe("bundled with esbuild for the browser: no Node-only import on the path", () => {
  for (const name of ["errors", "heap", "once", "fallible", "ffi"] as const) {
    const pending = browserPending[name];
    const test = pending === undefined ? it : it.fails;
    test(`${name}${pending ? ` (known defect: ${pending})` : ""}`, async () => {
      const { file, errors } = await bundleExample(name, "browser", outdir);
      expect(errors).toEqual([]);
      const code = readFileSync(file as string, "utf8");
      // No static or dynamic import of a Node built-in, and no require(). Feature detection through
      // `globalThis.process?.getBuiltinModule?.("node:v8")` is allowed: it is undefined in a browser.
      expect(code).not.toMatch(/\b(?:from|import)\s*\(?\s*["']node:/);
      expect(code).not.toMatch(/\brequire\(/);
      expect(code.match(/["']node:[\w/]+["']/g) ?? []).toEqual(
        (code.match(/getBuiltinModule\?\.\(["']node:[\w/]+["']\)/g) ?? []).map((call) =>
          call.slice(call.indexOf("(") + 1, -1),
        ),
      );
    });
  }

  it("isolate is Node-only: a browser bundle fails at build time, naming the node: modules", async () => {
    const { file, errors } = await bundleExample("isolate", "browser", outdir);
    expect(file).toBeUndefined();
    expect(errors.join("\n")).toMatch(/node:child_process|node:worker_threads/);
  });
});
