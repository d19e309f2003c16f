import { checkSize } from "../internal/validate.js";
import { functionSource } from "./function-source.js";
import { type IsolateMode, Isolator } from "./isolator.js";
import { robustSlope } from "./robust-slope.js";

/** What `probeLeak` found. */
export interface LeakProbe {
  /**
   * Bytes retained per iteration after a full GC: the median of the slopes between pairs of samples
   * (Theil–Sen), so a transient spike from JIT code or a late GC does not move it.
   */
  readonly bytesPerIteration: number;
  /** Heap in use after a full GC: before the first iteration, then after each. */
  readonly samples: readonly number[];
  /** True when retention grows by more than `thresholdBytes` per iteration. */
  readonly leaks: boolean;
}

/** Options of `probeLeak`. */
export interface LeakProbeOptions {
  /** @defaultValue 30 */
  readonly iterations?: number;
  /** @defaultValue 1024 */
  readonly thresholdBytes?: number;
  /** @defaultValue "process" */
  readonly mode?: IsolateMode;
  /** Iterations to run before measuring, so caches and JIT settle. @defaultValue 3 */
  readonly warmup?: number;
}

// Runs inside the child (sent as source): `fn` arrives as source too and is called repeatedly.
const probe = async (source: string, iterations: number, warmup: number): Promise<number[]> => {
  // Indirect eval (through an alias): global scope, so the probe sees only globals.
  // biome-ignore lint/security/noGlobalEval: isolate runs caller-supplied source by design, inside the isolated child
  const evaluate = globalThis.eval;
  const fn = evaluate(`(${source}\n)`) as (i: number) => unknown;
  // A process gets --expose-gc; a worker may not take that flag, so it turns it on at run time.
  let gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    const v8 = process.getBuiltinModule("node:v8") as typeof import("node:v8");
    const vm = process.getBuiltinModule("node:vm") as typeof import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  const collect = gc;
  const heap = () => {
    collect();
    collect();
    return process.memoryUsage().heapUsed;
  };
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples = [heap()];
  for (let i = 0; i < iterations; i++) {
    await fn(i);
    samples.push(heap());
  }
  return samples;
};

/**
 * Runs `fn` repeatedly in one isolated child with a full GC after each run and reports how many
 * bytes stay retained per iteration, so you can tell whether a function leaks.
 *
 * @param fn A self-contained function (called with the iteration number).
 * @param options Iterations, threshold, mode.
 * @returns The slope, the samples and a verdict.
 * @example
 * ```ts
 * const probe = await probeLeak(() => { const g = globalThis as { cache?: number[][] }; (g.cache ??= []).push(new Array(1000)); });
 * console.log(probe.leaks, probe.bytesPerIteration);
 * ```
 */
export async function probeLeak(
  fn: (iteration: number) => unknown,
  options: LeakProbeOptions = {},
): Promise<LeakProbe> {
  const iterations = checkSize(options.iterations ?? 30, "iterations", 2, 1_000_000);
  const warmup = checkSize(options.warmup ?? 3, "warmup", 0, 1_000_000);
  const threshold = options.thresholdBytes ?? 1024;
  const source = functionSource(fn);
  const isolator = new Isolator({
    mode: options.mode ?? "process",
    spares: 0,
    // Workers refuse --expose-gc in execArgv (the probe turns it on inside instead).
    execArgv: (options.mode ?? "process") === "process" ? ["--expose-gc"] : [],
    output: "ignore",
  });
  try {
    const samples = await isolator.run(probe, { args: [source, iterations, warmup] as const });
    const bytesPerIteration = robustSlope(samples);
    return { bytesPerIteration, samples, leaks: bytesPerIteration > threshold };
  } finally {
    await isolator.close();
  }
}
