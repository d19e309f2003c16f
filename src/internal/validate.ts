import { InvalidArgumentError, InvalidSizeError } from "./errors.js";

/**
 * Checks that `value` is a whole number in [min, max] and returns it. Never coerces: a string,
 * NaN, infinity or a fraction is an error, not a silent 0.
 */
export function checkSize(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number") {
    throw new InvalidSizeError(`${what} must be a number, got ${typeof value}`, value);
  }
  if (!Number.isInteger(value)) {
    throw new InvalidSizeError(`${what} must be a whole number, got ${value}`, value);
  }
  if (value < min) throw new InvalidSizeError(`${what} must be at least ${min}, got ${value}`, value);
  if (value > max) throw new InvalidSizeError(`${what} must be at most ${max}, got ${value}`, value);
  return value;
}

/** Checks that `value` is a function. */
export function checkFunction<T extends (...args: never[]) => unknown>(value: unknown, what: string): T {
  if (typeof value !== "function") throw new InvalidArgumentError(`${what} must be a function, got ${typeof value}`);
  return value as T;
}
