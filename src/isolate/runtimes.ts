import { type ChildOptions, failedChild, type IsolatedChild } from "./child.js";
import { ForkChild } from "./fork/fork-child.js";
import { ProcessChild } from "./process-child.js";
import { WorkerChild } from "./worker-child.js";

/** Starts one isolated context of a runtime. */
export type ChildFactory = (options: ChildOptions) => IsolatedChild;

/**
 * The runtimes an `Isolator` can run code in, by mode. Each sits behind `IsolatedChild`, so a
 * new runtime is one factory here plus its child class; spares, reuse, limits and outcomes are
 * shared.
 */
const runtimes = new Map<string, ChildFactory>([
  ["process", (options) => new ProcessChild(options)],
  ["worker", (options) => new WorkerChild(options)],
  ["fork", (options) => new ForkChild(options)],
]);

/** @internal Adds (or replaces) a runtime under `mode`. */
export function registerRuntime(mode: string, factory: ChildFactory): void {
  runtimes.set(mode, factory);
}

/**
 * @internal The factory for `mode` (undefined when no runtime has that name). A runtime that
 * throws while starting a child gives a child that failed to start, never an exception.
 */
export function runtimeFor(mode: string): ChildFactory | undefined {
  const factory = runtimes.get(mode);
  if (factory === undefined) return undefined;
  return (options) => {
    try {
      return factory(options);
    } catch (error) {
      return failedChild(mode, error);
    }
  };
}

/** @internal The names of every registered runtime. */
export function runtimeNames(): string[] {
  return [...runtimes.keys()];
}
