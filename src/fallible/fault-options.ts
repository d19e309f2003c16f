import { InvalidArgumentError } from "../internal/errors.js";

/** The knobs of `FaultInjector`, after the kernel's failslab and SQLite's fault simulator. */
export interface FaultOptions {
  /** Chance (0..1) that an eligible allocation fails. */
  readonly probability?: number;
  /** Seed of the random generator, so probabilistic runs reproduce. @defaultValue 1 */
  readonly seed?: number;
  /** Fail exactly the N-th allocation (1-based). */
  readonly nth?: number;
  /** Fail every N-th allocation. */
  readonly interval?: number;
  /** At most this many failures. @defaultValue Infinity */
  readonly times?: number;
  /** Bytes that may be allocated before any failure is injected. @defaultValue 0 */
  readonly space?: number;
  /** Only allocations of at least this many bytes may fail. @defaultValue 0 */
  readonly minSize?: number;
  /** `"transient"`: each injection fails one allocation; `"persistent"`: after the first, every allocation fails. @defaultValue "transient" */
  readonly mode?: "transient" | "persistent";
  /** Only allocations whose stack matches one of these may fail (the stack is captured only when set). */
  readonly include?: readonly (string | RegExp)[];
  /** Allocations whose stack matches one of these never fail. */
  readonly exclude?: readonly (string | RegExp)[];
  /** Record the stack of every allocation, not just of injections (for sweeps). @defaultValue false */
  readonly recordAllSites?: boolean;
}

function positiveInt(value: string, key: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`MEMKIT_FAULTS: ${key} must be a whole number, got ${value}`);
  return n;
}

/**
 * Parses the `MEMKIT_FAULTS` syntax: comma-separated `key=value` pairs, e.g.
 * `p=10%,seed=42,times=3`, `nth=5,mode=persistent`, `interval=100,minsize=64,include=parser|lexer`.
 */
export function parseFaultSpec(spec: string): FaultOptions {
  const options: Record<string, unknown> = {};
  for (const part of spec
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [rawKey, value = ""] = part.split("=", 2) as [string, string?];
    const key = rawKey.toLowerCase();
    if (key === "p" || key === "probability") {
      const percent = value.endsWith("%");
      const n = Number(percent ? value.slice(0, -1) : value);
      if (!Number.isFinite(n) || n < 0 || (percent ? n > 100 : n > 1)) {
        throw new InvalidArgumentError(`MEMKIT_FAULTS: p must be 0..1 or 0%..100%, got ${value}`);
      }
      options.probability = percent ? n / 100 : n;
    } else if (key === "seed") options.seed = positiveInt(value, key);
    else if (key === "nth") options.nth = positiveInt(value, key);
    else if (key === "interval") options.interval = positiveInt(value, key);
    else if (key === "times") options.times = positiveInt(value, key);
    else if (key === "space") options.space = positiveInt(value, key);
    else if (key === "minsize" || key === "min-size") options.minSize = positiveInt(value, key);
    else if (key === "mode") {
      if (value !== "transient" && value !== "persistent") {
        throw new InvalidArgumentError(`MEMKIT_FAULTS: mode must be transient or persistent, got ${value}`);
      }
      options.mode = value;
    } else if (key === "include" || key === "exclude") options[key] = value.split("|").filter(Boolean);
    else
      throw new InvalidArgumentError(
        `MEMKIT_FAULTS: unknown key ${JSON.stringify(rawKey)} (known: p, seed, nth, interval, times, space, minsize, mode, include, exclude)`,
      );
  }
  return options as FaultOptions;
}
