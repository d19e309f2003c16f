import { InvalidArgumentError } from "../../internal/errors.js";
import { loadForkAddon } from "./addon.js";

/**
 * The mode an isolator really uses: `"fork"` only where fork mode can run. Elsewhere it throws
 * (the addon's typed error), unless the caller asked for `fallback: "process"`.
 *
 * @param mode The requested mode.
 * @param fallback The requested fallback.
 * @returns The mode to use.
 * @throws {IsolateForkUnavailableError} ERR_MEMKIT_ISOLATE_FORK_UNAVAILABLE when fork mode cannot run and no fallback was asked for.
 */
export function forkModeFor(mode: string, fallback: unknown): string {
  if (fallback !== undefined && fallback !== "process")
    throw new InvalidArgumentError(`fallback must be "process" or undefined, got ${String(fallback)}`);
  if (mode !== "fork") return mode;
  try {
    loadForkAddon();
    return mode;
  } catch (error) {
    if (fallback === "process") return "process";
    throw error;
  }
}
