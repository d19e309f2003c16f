import { type CallOptions, type CallStats, type IsolateMode, Isolator, type ModuleTask } from "./isolator.js";

/** Options of `isolate`: one call's options plus the kind of context to run in. */
export interface IsolateOptions<A extends readonly unknown[] = readonly unknown[]> extends CallOptions<A> {
  /** @defaultValue "process" */
  readonly mode?: IsolateMode;
  /** See `IsolatorOptions.memoryLimitMb`. */
  readonly memoryLimitMb?: number;
  /** @defaultValue "inherit" */
  readonly output?: "inherit" | "ignore";
  /** Extra Node flags for the child. See `IsolatorOptions.execArgv`. @defaultValue [] */
  readonly execArgv?: readonly string[];
  /** The child's environment. See `IsolatorOptions.env`. @defaultValue process.env (inherited) */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Fork mode where it cannot run: see `IsolatorOptions.fallback`. @defaultValue undefined (throw) */
  readonly fallback?: "process";
}

/**
 * The shared pool behind `isolate()`: one isolator per kind of context (mode, memory limit,
 * output, flags, environment), each with one spare. It is bounded: at most `MAX_POOLS` kinds
 * keep children (the least recently used kind is closed when another is needed), and a spare
 * idle for `IDLE_MS` is stopped. `shutdownIsolate()` stops them all.
 */
const MAX_POOLS = 2;
const IDLE_MS = 10_000;
const pools = new Map<string, Isolator>();
const envIds = new WeakMap<object, number>();
let nextEnvId = 1;

function envKey(env: object | undefined): string {
  if (env === undefined) return "";
  let id = envIds.get(env);
  if (id === undefined) {
    id = nextEnvId++;
    envIds.set(env, id);
  }
  return String(id);
}

function isolatorFor(options: IsolateOptions<readonly unknown[]>): Isolator {
  const mode = options.mode ?? "process";
  const output = options.output ?? "inherit";
  const key = [
    mode,
    options.memoryLimitMb ?? "",
    output,
    (options.execArgv ?? []).join("\0"),
    envKey(options.env),
    options.fallback ?? "",
  ].join("|");
  let isolator = pools.get(key);
  if (isolator !== undefined) {
    // Most recently used last, so the first entry is the one to close when the bound is reached.
    pools.delete(key);
    pools.set(key, isolator);
    return isolator;
  }
  isolator = new Isolator({
    mode,
    spares: 1,
    output,
    idleTimeoutMs: IDLE_MS,
    ...(options.memoryLimitMb === undefined ? {} : { memoryLimitMb: options.memoryLimitMb }),
    ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
  });
  pools.set(key, isolator);
  for (const [oldKey, old] of pools) {
    if (pools.size <= MAX_POOLS) break;
    pools.delete(oldKey);
    void old.close();
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
 * @param options Arguments, mode, memory limit, timeout, signal, flags, environment.
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
 * @throws The same errors as `isolate`.
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

/**
 * Stops every idle child of the shared pool behind `isolate()` (calls in flight finish). The
 * next `isolate()` call starts a new pool. Spares never keep the process alive anyway; use this
 * to release their memory now (in tests, or before a long idle phase).
 *
 * @returns When the pools were closed.
 * @example
 * ```ts
 * await isolate(() => 1);
 * await shutdownIsolate(); // no idle child left
 * ```
 */
export async function shutdownIsolate(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((isolator) => isolator.close()));
}
