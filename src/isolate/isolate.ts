import { type CallOptions, type CallStats, type IsolateMode, Isolator, type ModuleTask } from "./isolator.js";

/** Options of `isolate`: one call's options plus the kind of context to run in. */
export interface IsolateOptions<A extends readonly unknown[] = readonly unknown[]> extends CallOptions<A> {
  /** @defaultValue "process" */
  readonly mode?: IsolateMode;
  /** See `IsolatorOptions.memoryLimitMb`. */
  readonly memoryLimitMb?: number;
  /** @defaultValue "inherit" */
  readonly output?: "inherit" | "ignore";
}

// One lazily created isolator (one spare) per kind of context, shared by every `isolate` call.
const isolators = new Map<string, Isolator>();

function isolatorFor(options: IsolateOptions<readonly unknown[]>): Isolator {
  const mode = options.mode ?? "process";
  const key = `${mode}|${options.memoryLimitMb ?? ""}|${options.output ?? "inherit"}`;
  let isolator = isolators.get(key);
  if (isolator === undefined) {
    isolator = new Isolator({
      mode,
      spares: 1,
      output: options.output ?? "inherit",
      ...(options.memoryLimitMb === undefined ? {} : { memoryLimitMb: options.memoryLimitMb }),
    });
    isolators.set(key, isolator);
  }
  return isolator;
}

/**
 * Runs `fn(...args)` in a fresh child process (or worker) and resolves with its result. Whatever
 * the function leaks, fragments, corrupts or crashes dies with the child: the caller only sees a
 * typed error. `fn` travels as source text, so it must be self-contained (use `await import()`
 * inside it for what it needs), or pass `{ module, export }` to run a module's export.
 *
 * @param fn The function, or a module export.
 * @param options Arguments, mode, memory limit, timeout, signal.
 * @returns The function's result (structured-clone types: Map, Set, Date, BigInt, typed arrays, errors, cycles).
 * @throws {IsolateOutOfMemoryError} ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY and the other isolate errors; see `executionOf`.
 * @example
 * ```ts
 * import { isolate } from "memkit/isolate";
 * const n = await isolate((size: number) => new Array(size).fill(1).length, { args: [1000], memoryLimitMb: 128 });
 * ```
 */
export function isolate<R, A extends readonly unknown[] = readonly unknown[]>(
  fn: ((...args: A) => R | Promise<R>) | ModuleTask,
  options: IsolateOptions<A> = {},
): Promise<Awaited<R>> {
  return isolatorFor(options).run(fn, options);
}

/**
 * Like `isolate`, and also reports wall time, CPU time, peak resident memory and heap in use.
 *
 * @param fn The function, or a module export.
 * @param options As for `isolate`.
 * @returns `{ value, stats }`.
 * @example
 * ```ts
 * const { value, stats } = await isolateWithStats(() => 42);
 * console.log(value, stats.wallMs);
 * ```
 */
export function isolateWithStats<R, A extends readonly unknown[] = readonly unknown[]>(
  fn: ((...args: A) => R | Promise<R>) | ModuleTask,
  options: IsolateOptions<A> = {},
): Promise<{ value: Awaited<R>; stats: CallStats }> {
  return isolatorFor(options).runWithStats(fn, options);
}
