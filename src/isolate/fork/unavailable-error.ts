import { MemkitError, registerErrorClasses } from "../../internal/errors.js";
import type { Execution } from "../errors.js";

/**
 * Fork mode cannot run on this machine: not Linux, no prebuilt addon for this CPU, or the addon
 * failed to load. `reason` says which; the message says how to build the addon from source.
 * Nothing ran. Pass `fallback: "process"` to run in process mode instead.
 *
 * @example
 * ```ts
 * try { new Isolator({ mode: "fork" }); } catch (e) { if (e instanceof IsolateForkUnavailableError) console.log(e.reason); }
 * ```
 */
export class IsolateForkUnavailableError extends MemkitError {
  readonly execution: Execution = "not-run";
  /** Why fork mode is unavailable. */
  readonly reason: "platform" | "missing-addon" | "load-failed";
  /** @internal */
  constructor(reason: "platform" | "missing-addon" | "load-failed", detail: string, cause?: unknown) {
    const build =
      reason === "platform"
        ? ' Use mode "process" (or pass fallback: "process").'
        : ' Build it from source with `bash node_modules/memkit/scripts/build-fork-addon.sh` (gcc and Node\'s headers) or `cd node_modules/memkit/native/fork && npm exec node-gyp -- rebuild` and set MEMKIT_FORK_ADDON to the built .node file, or pass fallback: "process".';
    super("ERR_MEMKIT_ISOLATE_FORK_UNAVAILABLE", `Fork mode is unavailable: ${detail}.${build}`, { cause });
    this.reason = reason;
  }
}

registerErrorClasses({ IsolateForkUnavailableError });
