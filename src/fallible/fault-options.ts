import { InvalidArgumentError, InvalidSizeError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";

/** The knobs of `FaultInjector`, after the kernel's failslab and SQLite's fault simulator. */
export interface FaultOptions {
  /** Chance (0..1) that an eligible allocation fails. With `nth`/`interval` set and no probability: 1. */
  readonly probability?: number;
  /**
   * Seed of the generator behind `probability` (a whole number in 0..2^32-1; each seed has its own
   * sequence). Without one a fresh seed is drawn; `injector.seed` and `report()` show it, so any
   * run can be replayed.
   * @defaultValue a fresh random seed
   */
  readonly seed?: number;
  /** Fail the N-th eligible allocation (1-based; "eligible": passed minSize, include/exclude and space). */
  readonly nth?: number;
  /** Fail every N-th eligible allocation (counted, like the kernel's, over those that passed the filters). */
  readonly interval?: number;
  /** At most this many failures (a whole number, or Infinity). @defaultValue Infinity */
  readonly times?: number;
  /** A budget of bytes, decremented by each eligible allocation's size; no failure until it runs out (kernel `space`). @defaultValue 0 */
  readonly space?: number;
  /** Only allocations of at least this many bytes may fail. @defaultValue 0 */
  readonly minSize?: number;
  /**
   * `"transient"`: each trigger fails one allocation; `"persistent"`: from the first failure on,
   * every allocation fails, up to `times` failures in all (SQLite's "fail the Nth and the next R").
   * @defaultValue "transient"
   */
  readonly mode?: "transient" | "persistent";
  /** Only allocations whose stack matches one of these may fail (the stack is captured only when set). */
  readonly include?: readonly (string | RegExp)[];
  /** Allocations whose stack matches one of these never fail. */
  readonly exclude?: readonly (string | RegExp)[];
  /** Record the stack of every allocation, not just of injections (for sweeps). @defaultValue false */
  readonly recordAllSites?: boolean;
  /** Like the kernel's `verbose`: 0 silent, 1 one line per injection, 2 with the stack (to `console.error`). @defaultValue 0 */
  readonly verbose?: 0 | 1 | 2;
}

const KNOWN = [
  "probability",
  "seed",
  "nth",
  "interval",
  "times",
  "space",
  "minSize",
  "mode",
  "include",
  "exclude",
  "recordAllSites",
  "verbose",
] as const;

const MAX = 2 ** 53 - 1;

function checkPatterns(value: unknown, key: string): void {
  if (!Array.isArray(value) || !value.every((p) => typeof p === "string" || p instanceof RegExp)) {
    throw new InvalidArgumentError(
      `FaultOptions.${key} must be an array of strings and RegExps (e.g. ["parser"]), got ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
    );
  }
}

/**
 * @internal Validates every knob when it is given: numbers must be whole (seed: 0..2^32-1;
 * probability: 0..1), enums one of their values, filters arrays; unknown keys are refused.
 */
export function checkFaultOptions(options: unknown): FaultOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new InvalidArgumentError(`FaultInjector options must be an object, got ${String(options)}`);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(KNOWN as readonly string[]).includes(key))
      throw new InvalidArgumentError(
        `Unknown FaultInjector option ${JSON.stringify(key)} (known: ${KNOWN.join(", ")})`,
      );
  }
  const p = o.probability;
  if (p !== undefined && !(typeof p === "number" && p >= 0 && p <= 1)) {
    throw new InvalidSizeError(
      `FaultOptions.probability must be a number from 0 to 1, got ${typeof p === "string" ? JSON.stringify(p) : String(p)}`,
      p,
    );
  }
  if (o.seed !== undefined) checkSize(o.seed, "FaultOptions.seed (a whole number in 0..2^32-1)", 0, 2 ** 32 - 1);
  if (o.nth !== undefined) checkSize(o.nth, "FaultOptions.nth (1-based)", 1, MAX);
  if (o.interval !== undefined) checkSize(o.interval, "FaultOptions.interval", 1, MAX);
  if (o.times !== undefined && o.times !== Number.POSITIVE_INFINITY)
    checkSize(o.times, "FaultOptions.times (a whole number or Infinity)", 0, MAX);
  if (o.space !== undefined) checkSize(o.space, "FaultOptions.space (bytes)", 0, MAX);
  if (o.minSize !== undefined) checkSize(o.minSize, "FaultOptions.minSize (bytes)", 0, MAX);
  if (o.mode !== undefined && o.mode !== "transient" && o.mode !== "persistent")
    throw new InvalidArgumentError(`FaultOptions.mode must be "transient" or "persistent", got ${String(o.mode)}`);
  if (o.include !== undefined) checkPatterns(o.include, "include");
  if (o.exclude !== undefined) checkPatterns(o.exclude, "exclude");
  if (o.recordAllSites !== undefined && typeof o.recordAllSites !== "boolean")
    throw new InvalidArgumentError(
      `FaultOptions.recordAllSites must be true or false, got ${String(o.recordAllSites)}`,
    );
  if (o.verbose !== undefined && o.verbose !== 0 && o.verbose !== 1 && o.verbose !== 2)
    throw new InvalidArgumentError(`FaultOptions.verbose must be 0, 1 or 2, got ${String(o.verbose)}`);
  return o as FaultOptions;
}

function envError(key: string, value: string | undefined, accepted: string): InvalidArgumentError {
  const shown = value === undefined ? "no value" : JSON.stringify(value);
  return new InvalidArgumentError(`MEMKIT_FAULTS: ${key} must be ${accepted}, got ${shown}`);
}

function wholeNumber(key: string, value: string | undefined, min: number, max = MAX): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
    throw envError(key, value, `a whole number from ${min} to ${max === MAX ? "2^53-1" : max}`);
  return Number(value);
}

function probability(value: string | undefined): number {
  const percent = value?.endsWith("%") === true;
  const text = percent ? value?.slice(0, -1) : value;
  const n = text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0 && (percent ? n <= 100 : n <= 1))) throw envError("p", value, "0..1 or 0%..100%");
  return percent ? n / 100 : n;
}

type Setter = (options: Record<string, unknown>, value: string | undefined) => void;

const ENV_KEYS: Record<string, Setter> = {
  p: (o, v) => (o.probability = probability(v)),
  seed: (o, v) => (o.seed = wholeNumber("seed", v, 0, 2 ** 32 - 1)),
  nth: (o, v) => (o.nth = wholeNumber("nth", v, 1)),
  interval: (o, v) => (o.interval = wholeNumber("interval", v, 1)),
  times: (o, v) => (o.times = wholeNumber("times", v, 0)),
  space: (o, v) => (o.space = wholeNumber("space", v, 0)),
  minsize: (o, v) => (o.minSize = wholeNumber("minsize", v, 0)),
  verbose: (o, v) => (o.verbose = wholeNumber("verbose", v, 0, 2)),
  mode: (o, v) => {
    if (v !== "transient" && v !== "persistent") throw envError("mode", v, "transient or persistent");
    o.mode = v;
  },
  include: (o, v) => (o.include = patterns("include", v)),
  exclude: (o, v) => (o.exclude = patterns("exclude", v)),
};
ENV_KEYS.probability = ENV_KEYS.p as Setter;
ENV_KEYS["min-size"] = ENV_KEYS.minsize as Setter;

function patterns(key: string, value: string | undefined): string[] {
  const list = (value ?? "").split("|").filter(Boolean);
  if (list.length === 0) throw envError(key, value, "one or more substrings separated by |");
  return list;
}

/**
 * Parses the `MEMKIT_FAULTS` syntax: comma-separated `key=value` pairs, e.g.
 * `p=10%,seed=42,times=3`, `nth=5,mode=persistent`, `interval=100,minsize=64,include=parser|lexer`.
 * Every value is checked: an empty or malformed one is an error, never a silent 0.
 *
 * @param spec The variable's value.
 * @returns The options.
 * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT naming the key, the value and what it accepts.
 * @example
 * ```ts
 * parseFaultSpec("p=10%,seed=42,times=3"); // { probability: 0.1, seed: 42, times: 3 }
 * ```
 */
export function parseFaultSpec(spec: string): FaultOptions {
  if (typeof spec !== "string") throw new InvalidArgumentError(`MEMKIT_FAULTS must be a string, got ${typeof spec}`);
  const options: Record<string, unknown> = {};
  for (const part of spec
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? undefined : part.slice(eq + 1).trim();
    const setter = ENV_KEYS[rawKey.trim().toLowerCase()];
    if (setter === undefined)
      throw new InvalidArgumentError(
        `MEMKIT_FAULTS: unknown key ${JSON.stringify(rawKey)} (known: p, seed, nth, interval, times, space, minsize, mode, include, exclude, verbose)`,
      );
    setter(options, value);
  }
  return options as FaultOptions;
}
