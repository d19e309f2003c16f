import { InvalidFailpointError } from "./errors.js";

/** One step of a failpoint's action chain. */
export interface FailpointAction {
  readonly kind: "off" | "return" | "sleep" | "throw" | "print";
  /** Chance (0..1) that the step fires when evaluated. */
  readonly probability: number;
  /** Fires at most this many times before the chain moves on (Infinity: forever). */
  readonly count: number;
  readonly argument: string | undefined;
}

const STEP = /^(?:(\d+(?:\.\d+)?)%)?(?:(\d+)\*)?([a-z]+)(?:\((.*)\))?$/s;

/**
 * Parses the action grammar of Rust's `fail` crate: steps joined by `->`, each
 * `[<percent>%][<count>*]<action>[(<argument>)]` with actions `off`, `return`, `sleep`, `throw`
 * (alias `panic`) and `print`. Example: `"20%3*throw(disk full)->off"`.
 */
export function parseFailpointSpec(spec: string): FailpointAction[] {
  if (typeof spec !== "string" || spec.trim() === "")
    throw new InvalidFailpointError(String(spec), "the spec is empty");
  return spec.split("->").map((raw) => {
    const step = raw.trim();
    const match = STEP.exec(step);
    if (match === null)
      throw new InvalidFailpointError(spec, `step ${JSON.stringify(step)} does not read as [N%][N*]action[(arg)]`);
    const [, percent, count, name = "", argument] = match;
    const kind = name === "panic" ? "throw" : name;
    if (kind !== "off" && kind !== "return" && kind !== "sleep" && kind !== "throw" && kind !== "print") {
      throw new InvalidFailpointError(spec, `unknown action ${JSON.stringify(name)}`);
    }
    const probability = percent === undefined ? 1 : Number(percent) / 100;
    if (probability > 1) throw new InvalidFailpointError(spec, `probability ${percent}% is over 100%`);
    if (kind === "sleep" && !(argument !== undefined && /^\d+$/.test(argument))) {
      throw new InvalidFailpointError(spec, "sleep needs a whole number of milliseconds, e.g. sleep(10)");
    }
    return { kind, probability, count: count === undefined ? Number.POSITIVE_INFINITY : Number(count), argument };
  });
}
