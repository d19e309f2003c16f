import { type ErrorCode, isErrorCode } from "./codes.js";

/** Options every memkit error accepts. */
export interface MemkitErrorOptions {
  /** The underlying error, kept as the standard `cause`. */
  readonly cause?: unknown;
}

// Classes that can be rebuilt by name after an error crossed a worker or process boundary, and
// each class's name. The name is given as a string (an object key) rather than read from
// `ctor.name`, because minifiers rename classes: a bundled DoubleFreeError would otherwise be
// called "o", and a page and its separately bundled workers would disagree on names.
const revivable = new Map<string, new (...args: never[]) => Error>();
const classNames = new WeakMap<object, string>();

/**
 * Registers error classes under their names, so that `error.name` stays the class name after
 * minification and `reviveError` can rebuild instances by name. Every memkit errors file calls it
 * once with an object of its classes (`registerErrorClasses({ DoubleFreeError, ... })`).
 */
export function registerErrorClasses(classes: Readonly<Record<string, new (...args: never[]) => Error>>): void {
  for (const [name, ctor] of Object.entries(classes)) {
    revivable.set(name, ctor);
    classNames.set(ctor, name);
  }
}

/** The registered name of an error class (its own `name` when it was never registered). */
function registeredName(ctor: { readonly name: string }): string {
  return classNames.get(ctor) ?? ctor.name;
}

/** The class registered under `name`, if any. */
export function errorClassByName(name: string): (new (...args: never[]) => Error) | undefined {
  return revivable.get(name);
}

function brand(error: Error, code: ErrorCode, name: string): void {
  // Non-enumerable so that console output and serialization stay like a built-in error's,
  // while `code` stays enumerable as Node's own errors have it.
  Object.defineProperty(error, "name", { value: name, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(error, "code", { value: code, writable: false, configurable: true, enumerable: true });
}

function hasMemkitCode(value: unknown): boolean {
  return typeof value === "object" && value !== null && isErrorCode((value as { code?: unknown }).code);
}

/**
 * Whether `value` is a memkit error: an object whose `code` is one of memkit's registered codes.
 * It checks the code, not the prototype, so it also holds for errors created in another realm
 * or revived after crossing a worker or process boundary.
 *
 * @param value Anything that was thrown or rejected.
 * @returns True when `value.code` is an `ERR_MEMKIT_*` code.
 * @example
 * ```ts
 * import { isMemkitError } from "memkit";
 * try { heap.free(12345); } catch (e) { if (isMemkitError(e)) console.log(e.code); }
 * ```
 */
export function isMemkitError(value: unknown): value is MemkitError {
  return hasMemkitCode(value);
}

/**
 * Base class of memkit's errors that are neither range nor type errors. Every memkit error has a
 * stable `code` (see `ErrorCodes`) and a `name` equal to its class name.
 *
 * `instanceof MemkitError` is true for every memkit error, including the `RangeError` and
 * `TypeError` subclasses and errors revived from another thread or process.
 *
 * @example
 * ```ts
 * import { MemkitError } from "memkit";
 * try { heap.malloc(1e12); } catch (e) { if (e instanceof MemkitError) console.log(e.code); }
 * ```
 */
export class MemkitError extends Error {
  /** The stable `ERR_MEMKIT_*` code of this condition. */
  declare readonly code: ErrorCode;

  /**
   * @param code The stable code.
   * @param message What went wrong, with the offending value, and what to do.
   * @param options `cause`.
   */
  constructor(code: ErrorCode, message: string, options?: MemkitErrorOptions) {
    super(message, options);
    brand(this, code, registeredName(new.target));
  }

  /**
   * `instanceof MemkitError` checks the code (so range/type errors and revived errors match);
   * `instanceof` a subclass is the ordinary prototype check.
   * @param value Anything.
   * @returns Whether `value` is an instance.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // On the base class the check is by code, so range/type errors and revived errors match;
    // on subclasses it is the ordinary prototype check.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` was asked about (maybe a subclass)
    if (this === MemkitError) return hasMemkitCode(value);
    // biome-ignore lint/complexity/noThisInStatic: see above; the ordinary check must run on the subclass itself
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/**
 * Base class of memkit's range errors (bad sizes, alignments, pointers). Also `instanceof
 * RangeError` and `instanceof MemkitError`.
 *
 * @example
 * ```ts
 * try { heap.malloc(-1); } catch (e) { if (e instanceof MemkitRangeError) console.log(e.code); }
 * ```
 */
export class MemkitRangeError extends RangeError {
  /** The stable `ERR_MEMKIT_*` code of this condition. */
  declare readonly code: ErrorCode;

  /**
   * @param code The stable code.
   * @param message What went wrong and with what value.
   * @param options `cause`.
   */
  constructor(code: ErrorCode, message: string, options?: MemkitErrorOptions) {
    super(message, options);
    brand(this, code, registeredName(new.target));
  }
}

/**
 * Base class of memkit's type errors (an argument of the wrong kind). Also `instanceof
 * TypeError` and `instanceof MemkitError`.
 *
 * @example
 * ```ts
 * try { Heap.attach(new ArrayBuffer(64)); } catch (e) { if (e instanceof MemkitTypeError) console.log(e.code); }
 * ```
 */
export class MemkitTypeError extends TypeError {
  /** The stable `ERR_MEMKIT_*` code of this condition. */
  declare readonly code: ErrorCode;

  /**
   * @param code The stable code.
   * @param message What was wrong with the argument.
   * @param options `cause`.
   */
  constructor(code: ErrorCode, message: string, options?: MemkitErrorOptions) {
    super(message, options);
    brand(this, code, registeredName(new.target));
  }
}

/**
 * Thrown for an argument of the wrong type.
 *
 * @example
 * ```ts
 * throw new InvalidArgumentError("Expected a function for `init`, got number");
 * ```
 */
export class InvalidArgumentError extends MemkitTypeError {
  /** @param message What was wrong. @param options `cause`. */
  constructor(message: string, options?: MemkitErrorOptions) {
    super("ERR_MEMKIT_INVALID_ARGUMENT", message, options);
  }
}

/**
 * Thrown for a size or count that is negative, NaN, infinite, fractional or too large.
 * `value` holds the offending value.
 *
 * @example
 * ```ts
 * try { heap.malloc(1.5); } catch (e) { if (e instanceof InvalidSizeError) console.log(e.value); }
 * ```
 */
export class InvalidSizeError extends MemkitRangeError {
  /** The offending value. */
  readonly value: unknown;
  /** @param message What was wrong. @param value The offending value. */
  constructor(message: string, value: unknown) {
    super("ERR_MEMKIT_INVALID_SIZE", message);
    this.value = value;
  }
}

/**
 * Thrown when a wait is cancelled by an `AbortSignal`; `cause` is the signal's reason.
 *
 * @example
 * ```ts
 * await cell.get({ signal }).catch((e) => e instanceof AbortedError);
 * ```
 */
export class AbortedError extends MemkitError {
  /** @param message What was aborted. @param options `cause`: the signal's reason. */
  constructor(message: string, options?: MemkitErrorOptions) {
    super("ERR_MEMKIT_ABORTED", message, options);
  }
}

/**
 * Thrown when a wait or call runs past its time limit. `timeoutMs` holds the limit.
 *
 * @example
 * ```ts
 * await cell.get({ timeoutMs: 10 }).catch((e) => e instanceof TimeoutError);
 * ```
 */
export class TimeoutError extends MemkitError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;
  /** @param message What timed out. @param timeoutMs The limit. */
  constructor(message: string, timeoutMs: number) {
    super("ERR_MEMKIT_TIMEOUT", message);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Shared memory was asked for where `SharedArrayBuffer` does not exist: in a browser page that is
 * not cross-origin isolated. Serve the page with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`, or use something that is not shared. `memkit/heap`
 * (`shared: true`) and `memkit/once` (`SharedOnceCell`) both throw it.
 *
 * @example
 * ```ts
 * try { Heap.create({ shared: true }); } catch (e) { if (e instanceof SharedMemoryUnavailableError) console.log(e.message); }
 * ```
 */
export class SharedMemoryUnavailableError extends MemkitTypeError {
  /**
   * @param what What needed shared memory.
   * @param alternative What to do instead when the headers cannot be set.
   */
  constructor(what: string, alternative: string) {
    super(
      "ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE",
      `${what} needs SharedArrayBuffer, which this page does not have: it is not cross-origin isolated. Serve it with the headers "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp", or ${alternative}.`,
    );
  }
}

registerErrorClasses({
  MemkitError,
  MemkitRangeError,
  MemkitTypeError,
  InvalidArgumentError,
  InvalidSizeError,
  AbortedError,
  TimeoutError,
  SharedMemoryUnavailableError,
});
