import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "../internal/errors.js";
import { functionSource } from "./function-source.js";
import type { ModuleTask } from "./isolator-options.js";
import type { Task } from "./protocol.js";

/** A module string as the child should import it: relative and absolute paths become file URLs. */
function moduleUrl(module: string): string {
  if (module.startsWith("./") || module.startsWith("../") || module === "." || module === "..") {
    // Relative to where the caller runs, like a path typed on the command line (not to memkit's files).
    return pathToFileURL(resolve(process.cwd(), module)).href;
  }
  if (isAbsolute(module)) return pathToFileURL(module).href;
  return module;
}

/** What the child must run for `target`: a function's checked source, or a module export. */
export function toTask(target: unknown): Task {
  if (typeof target === "function") return { kind: "source", source: functionSource(target) };
  if (typeof target === "object" && target !== null && "module" in target) {
    const { module, export: exportName = "default" } = target as ModuleTask;
    if (typeof exportName !== "string")
      throw new InvalidArgumentError(`export must be a string, got ${typeof exportName}`);
    if (module instanceof URL) return { kind: "module", url: module.href, exportName };
    if (typeof module !== "string" || module === "")
      throw new InvalidArgumentError(`module must be a URL or a non-empty string, got ${String(module)}`);
    return { kind: "module", url: moduleUrl(module), exportName };
  }
  return { kind: "source", source: functionSource(target) };
}
