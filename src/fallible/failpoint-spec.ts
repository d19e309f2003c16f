import { InvalidFailpointError } from "./errors.js";

/** The tasks of Rust's `fail` crate that a failpoint can perform (`panic` is read as `throw`). */
export type FailpointTask = "off" | "return" | "sleep" | "throw" | "print" | "pause" | "yield" | "delay";

/** One action of a failpoint's chain. */
export interface FailpointAction {
  readonly kind: FailpointTask;
  /** Chance (0..1) that the action is taken when evaluated. */
  readonly probability: number;
  /** How many times the action may be taken (0: never; Infinity: no limit). */
  readonly count: number;
  readonly argument: string | undefined;
}

const STEP = /^(?:(\d+(?:\.\d+)?)%)?(?:(\d+)\*)?([a-z]+)(?:\((.*)\))?$/s;
const TASKS: readonly string[] = ["off", "return", "sleep", "throw", "print", "pause", "yield", "delay"];

function parseStep(spec: string, raw: string): FailpointAction {
  const step = raw.trim();
  const match = STEP.exec(step);
  if (match === null)
    throw new InvalidFailpointError(spec, `action ${JSON.stringify(step)} does not read as [p%][cnt*]task[(arg)]`);
  const [, percent, count, name = "", argument] = match;
  const kind = name === "panic" ? "throw" : name;
  if (!TASKS.includes(kind))
    throw new InvalidFailpointError(spec, `unknown task ${JSON.stringify(name)} (known: ${TASKS.join(", ")}, panic)`);
  const probability = percent === undefined ? 1 : Number(percent) / 100;
  if (probability > 1) throw new InvalidFailpointError(spec, `probability ${percent}% is over 100%`);
  if ((kind === "sleep" || kind === "delay") && !(argument !== undefined && /^\d+$/.test(argument))) {
    throw new InvalidFailpointError(spec, `${kind} needs a whole number of milliseconds, e.g. ${kind}(10)`);
  }
  if ((kind === "off" || kind === "pause" || kind === "yield") && argument !== undefined)
    throw new InvalidFailpointError(spec, `${kind} takes no argument`);
  return {
    kind: kind as FailpointTask,
    probability,
    count: count === undefined ? Number.POSITIVE_INFINITY : Number(count),
    argument,
  };
}

/**
 * Parses the action grammar of Rust's `fail` crate: actions joined by `->`, each
 * `[<p>%][<cnt>*]<task>[(<arg>)]`, tasks `off`, `return`, `sleep`, `panic`/`throw`, `print`,
 * `pause`, `yield`, `delay`. As in the crate, an action is tried only when those before it were
 * not taken (its chance missed or its count ran out), so `50%return(1)->return(2)` returns 1 or 2,
 * and `0*throw` never fires. Example: `"20%3*throw(disk full)->off"`.
 *
 * @param spec The action chain.
 * @returns The parsed actions.
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT naming the bad part.
 * @example
 * ```ts
 * parseFailpointSpec("20%3*throw(disk full)->off");
 * ```
 */
export function parseFailpointSpec(spec: string): FailpointAction[] {
  if (typeof spec !== "string" || spec.trim() === "")
    throw new InvalidFailpointError(String(spec), "the spec is empty");
  return spec.split("->").map((raw) => parseStep(spec, raw));
}
