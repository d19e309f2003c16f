import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "./browser/server.js";
import { type BundleResult, bundleEntry, bundleRoot, examplesDir, wasmFixture } from "./bundle.js";
import { findChromium, toolOrSkip } from "./tools.js";

// Deliverable 2 of issue #14: memkit in a real browser (headless Chromium, `npm run test:browser`).
// A plain page (no COOP/COEP: no SharedArrayBuffer) runs the heap, once, fallible, errors and the
// WebAssembly half of ffi from browser bundles; a cross-origin isolated page shares one heap and
// one SharedOnceCell between two Web Workers.

const executablePath = toolOrSkip("chromium", findChromium(), "apt-get install chromium");
const browserDir = fileURLToPath(new URL("./browser/", import.meta.url));

/** Every script a page loads, bundled for the browser like an application's bundler would. */
const entries: Record<string, string> = {
  errors: `${examplesDir}errors.mjs`,
  heap: `${examplesDir}heap.mjs`,
  once: `${examplesDir}once.mjs`,
  fallible: `${examplesDir}fallible.mjs`,
  ffi: `${examplesDir}ffi.mjs`,
  "shared-refused": `${browserDir}shared-refused.mjs`,
  "shared-once-refused": `${browserDir}shared-once-refused.mjs`,
  "isolated-main": `${browserDir}isolated-main.mjs`,
  "shared-worker": `${browserDir}shared-worker.mjs`,
};

// Cases that fail because of a known defect: `it.fails` passes while the defect is there and
// turns red once it is fixed. None are open.
const pending: Record<string, string> = {};

interface PageOutcome {
  readonly ok: boolean;
  readonly result?: Record<string, unknown>;
  readonly error?: { name?: string; code?: string; message: string };
}

/** The page-side code: import the bundle, run its default export with the .wasm fixture, report. */
function pageScript(bundle: string): string {
  return `(async () => {
    try {
      const { default: run } = await import(${JSON.stringify(bundle)});
      const wasm = new Uint8Array(await (await fetch("./ownership.wasm")).arrayBuffer());
      return { ok: true, result: await run({ wasm }) };
    } catch (error) {
      return { ok: false, error: { name: error?.name, code: error?.code, message: String(error?.message ?? error) } };
    }
  })()`;
}

describe.skipIf(executablePath === undefined)("memkit in headless Chromium", () => {
  let browser: Browser;
  let server: TestServer;
  let outdir: string;
  const built: Record<string, BundleResult> = {};

  beforeAll(async () => {
    outdir = mkdtempSync(`${bundleRoot}browser-`);
    for (const [name, entry] of Object.entries(entries)) {
      built[name] = await bundleEntry(entry, "browser", `${outdir}/${name}.mjs`);
    }
    server = await startServer(outdir, wasmFixture);
    browser = await chromium.launch({
      executablePath: executablePath as string,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage", // containers often have a tiny /dev/shm
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outdir !== undefined) rmSync(outdir, { recursive: true, force: true });
  });

  /** Opens a fresh page of `scope`, imports the bundle `name` there and runs its default export. */
  async function runInPage(scope: "plain" | "isolated", name: string): Promise<PageOutcome> {
    expect(built[name]?.errors).toEqual([]);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto(`${server.origin}/${scope}/`);
      // A string, not a function: Vitest rewrites `import()` inside test code, and this runs in the page.
      const outcome = (await page.evaluate(pageScript(`./${name}.mjs`))) as PageOutcome;
      expect(pageErrors).toEqual([]);
      return outcome;
    } finally {
      await context.close();
    }
  }

  /** `it`, or `it.fails` naming the defect while another branch's fix is not merged. */
  function test(scope: string, name: string, title: string, body: () => Promise<void>): void {
    const known = pending[`${scope} ${name}`];
    (known === undefined ? it : it.fails)(`${title}${known ? ` (known defect: ${known})` : ""}`, body);
  }

  async function globalsOf(scope: "plain" | "isolated"): Promise<[boolean, string]> {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.origin}/${scope}/`);
      return (await page.evaluate("[globalThis.crossOriginIsolated, typeof SharedArrayBuffer]")) as [boolean, string];
    } finally {
      await page.close();
    }
  }

  describe("a plain page (not cross-origin isolated)", () => {
    it("has no SharedArrayBuffer, as on most of the web", async () => {
      expect(await globalsOf("plain")).toEqual([false, "undefined"]);
    });

    for (const name of ["errors", "heap", "once", "fallible", "ffi"]) {
      test("plain", name, `the ${name} README example runs`, async () => {
        const outcome = await runInPage("plain", name);
        expect(outcome.error).toBeUndefined();
        expect(outcome.ok).toBe(true);
      });
    }

    for (const [name, what] of [
      ["shared-refused", "a shared heap"],
      ["shared-once-refused", "a SharedOnceCell"],
    ] as const) {
      test(
        "plain",
        name,
        `${what} is refused with ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE, not a ReferenceError`,
        async () => {
          const outcome = await runInPage("plain", name);
          expect(outcome.ok).toBe(true);
          expect(outcome.result).toMatchObject({
            threw: true,
            name: "SharedMemoryUnavailableError",
            code: "ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE",
            message: expect.stringContaining("Cross-Origin-Embedder-Policy: require-corp"),
          });
        },
      );
    }
  });

  describe("a cross-origin isolated page (COOP same-origin, COEP require-corp)", () => {
    it("is cross-origin isolated and has SharedArrayBuffer", async () => {
      expect(await globalsOf("isolated")).toEqual([true, "function"]);
    });

    test("isolated", "heap", "the heap README example runs", async () => {
      const outcome = await runInPage("isolated", "heap");
      expect(outcome.error).toBeUndefined();
    });

    test("isolated", "isolated-main", "two Web Workers share one heap and one SharedOnceCell", async () => {
      expect(built["shared-worker"]?.errors).toEqual([]);
      const outcome = await runInPage("isolated", "isolated-main");
      expect(outcome.error).toBeUndefined();
      const result = outcome.result as Record<string, unknown> & { pointers: number[]; values: number[] };
      expect(result.error).toBeUndefined();
      expect(result).toMatchObject({
        crossOriginIsolated: true,
        tags: [1, 2],
        liveBlocks: 2,
        initializers: 1,
        initCount: 1,
      });
      expect(new Set(result.pointers).size).toBe(2);
      expect(result.values[0]).toBe(result.values[1]);
      expect(result.pageValue).toBe(result.values[0]);
    });
  });
});
