import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** The portable README examples, one per public entry point (`errors` is the root `memkit`). */
export const exampleNames = ["errors", "heap", "fallible", "isolate", "once", "ffi"] as const;
export type ExampleName = (typeof exampleNames)[number];
export type Platform = "node" | "browser";

/** Inside the package, so a Node bundle that keeps `memkit/*` external still resolves it by name. */
export const bundleRoot: string = fileURLToPath(new URL("../../.bundles/", import.meta.url));
export const examplesDir: string = fileURLToPath(new URL("./examples/", import.meta.url));
export const wasmFixture: string = fileURLToPath(new URL("../fixtures/wasm/ownership.wasm", import.meta.url));

export interface BundleResult {
  /** The bundle file, when the build succeeded. */
  readonly file?: string;
  /** esbuild's error texts, when it failed. */
  readonly errors: readonly string[];
}

/**
 * Bundles one example the way an application bundler would ship it: every import inlined, minified,
 * tree-shaken, ESM, for `platform`. `external` names packages left as imports (a documented opt-out).
 */
export function bundleExample(
  name: ExampleName,
  platform: Platform,
  outdir: string,
  external: readonly string[] = [],
): Promise<BundleResult> {
  return bundleEntry(`${examplesDir}${name}.mjs`, platform, `${outdir}/${platform}-${name}.mjs`, external);
}

/** Bundles any entry file like `bundleExample` does, into `outfile`. */
export async function bundleEntry(
  entry: string,
  platform: Platform,
  outfile: string,
  external: readonly string[] = [],
): Promise<BundleResult> {
  mkdirSync(dirname(outfile), { recursive: true });
  try {
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform,
      format: "esm",
      target: "es2022",
      minify: true,
      treeShaking: true,
      external: [...external],
      logLevel: "silent",
    });
    return { file: outfile, errors: [] };
  } catch (error) {
    const errors = (error as { errors?: { text: string }[] }).errors ?? [{ text: String(error) }];
    return { errors: errors.map((e) => e.text) };
  }
}
