import { InvalidArgumentError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";

const FUNCTIONS = ["heap", "check", "cleanup", "equals", "onProgress"] as const;
const KNOWN: readonly string[] = [...FUNCTIONS, "modes", "maxAllocations", "seed", "strict"];

/** @internal Validates `sweepAllocations` options when given; unknown keys are refused. */
export function checkSweepOptions(options: unknown): void {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(`sweepAllocations options must be an object, got ${String(options)}`);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!KNOWN.includes(key))
      throw new InvalidArgumentError(
        `Unknown sweepAllocations option ${JSON.stringify(key)} (known: ${KNOWN.join(", ")})`,
      );
  for (const key of FUNCTIONS)
    if (o[key] !== undefined && typeof o[key] !== "function")
      throw new InvalidArgumentError(`SweepOptions.${key} must be a function, got ${typeof o[key]}`);
  const modes = o.modes;
  if (
    modes !== undefined &&
    !(Array.isArray(modes) && modes.length > 0 && modes.every((m) => m === "transient" || m === "persistent"))
  )
    throw new InvalidArgumentError(
      `SweepOptions.modes must be a non-empty array of "transient" and "persistent", got ${JSON.stringify(modes)}`,
    );
  if (o.maxAllocations !== undefined) checkSize(o.maxAllocations, "SweepOptions.maxAllocations", 1, 2 ** 53 - 1);
  if (o.seed !== undefined) checkSize(o.seed, "SweepOptions.seed (a whole number in 0..2^32-1)", 0, 2 ** 32 - 1);
  if (o.strict !== undefined && typeof o.strict !== "boolean")
    throw new InvalidArgumentError(`SweepOptions.strict must be true or false, got ${String(o.strict)}`);
}
