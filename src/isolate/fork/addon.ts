import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { IsolateForkUnavailableError } from "./unavailable-error.js";

/** What the native fork addon (native/fork/fork.c) exports. */
export interface ForkAddon {
  /** Runs the fork server; returns only in a forked child, with its request. */
  serve(ctlFd: number, outFd: number, callerPid: number): { id: number; payload: Buffer; pid: number };
  /** Leaves the process at once with `_exit(code)`. */
  exit(code: number): never;
  /** sha256 of the C source the binary was built from. */
  readonly sourceSha256: string;
}

/** The prebuilt binary shipped in the package (dist/isolate/fork -> prebuilds/). */
export const PREBUILT_ADDON: string = fileURLToPath(
  new URL(`../../../prebuilds/${process.platform}-${process.arch}/memkit-fork.node`, import.meta.url),
);

let loaded: ForkAddon | undefined;

/** The addon's path: `MEMKIT_FORK_ADDON` when set (a build from source), else the prebuilt one. */
export function forkAddonPath(): string {
  return process.env.MEMKIT_FORK_ADDON || PREBUILT_ADDON;
}

/**
 * Loads the fork addon, or says exactly why it cannot.
 *
 * @param path Where the addon is (default: `forkAddonPath()`).
 * @returns The addon.
 * @throws {IsolateForkUnavailableError} ERR_MEMKIT_ISOLATE_FORK_UNAVAILABLE off Linux, without a binary, or when it fails to load.
 */
export function loadForkAddon(path: string = forkAddonPath()): ForkAddon {
  if (loaded !== undefined) return loaded;
  const other = "Bun" in globalThis ? "Bun" : "Deno" in globalThis ? "Deno" : undefined;
  if (other !== undefined) {
    // The template must be a Node process started with V8 flags only Node takes.
    throw new IsolateForkUnavailableError("platform", `it needs Node.js, and this is ${other}`);
  }
  if (process.platform !== "linux") {
    throw new IsolateForkUnavailableError(
      "platform",
      `it needs Linux (fork, prctl, /proc), and this is ${process.platform}`,
    );
  }
  if (!existsSync(path)) {
    throw new IsolateForkUnavailableError(
      "missing-addon",
      `there is no addon at ${path} (${process.arch} has no prebuilt one)`,
    );
  }
  try {
    loaded = createRequire(import.meta.url)(path) as ForkAddon;
  } catch (error) {
    throw new IsolateForkUnavailableError(
      "load-failed",
      `the addon at ${path} failed to load (${String(error)})`,
      error,
    );
  }
  return loaded;
}
