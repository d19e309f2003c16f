import { MemkitError, MemkitRangeError, registerErrorClasses } from "../internal/errors.js";

/**
 * An initializer tried to read or initialize its own cell while running (which would otherwise
 * recurse forever or deadlock).
 *
 * @example
 * ```ts
 * const cell = new OnceCell<number>();
 * cell.getOrInit(() => cell.getOrInit(() => 1)); // throws ReentrantInitError
 * ```
 */
export class ReentrantInitError extends MemkitError {
  /** @param what The cell kind, for the message. */
  constructor(what: string) {
    super(
      "ERR_MEMKIT_REENTRANT_INIT",
      `The ${what} initializer tried to initialize its own ${what} while running; break the cycle (initialize the dependency first)`,
    );
  }
}

/**
 * The initializer failed earlier under the "poison" policy; `cause` is its original error.
 *
 * @example
 * ```ts
 * const lazy = new Lazy(() => { throw new Error("boom"); });
 * try { lazy.value; } catch {}
 * try { lazy.value; } catch (e) { if (e instanceof PoisonedError) console.log(e.cause); }
 * ```
 */
export class PoisonedError extends MemkitError {
  /** @param what The cell kind. @param cause The original failure. */
  constructor(what: string, cause: unknown) {
    super("ERR_MEMKIT_POISONED", `The ${what} is poisoned: its initializer failed earlier (see cause)`, { cause });
  }
}

/**
 * A value did not fit the capacity reserved for it in shared memory.
 *
 * @example
 * ```ts
 * const cell = new SharedOnceCell({ capacity: 16 });
 * try { cell.getOrInitSync(() => "x".repeat(100)); } catch (e) { if (e instanceof CapacityExceededError) console.log(e.size); }
 * ```
 */
export class CapacityExceededError extends MemkitRangeError {
  /** Serialized size of the value. */
  readonly size: number;
  /** Bytes reserved. */
  readonly capacity: number;
  /** @param size Bytes needed. @param capacity Bytes reserved. */
  constructor(size: number, capacity: number) {
    super(
      "ERR_MEMKIT_CAPACITY_EXCEEDED",
      `The value serializes to ${size} bytes but the cell reserves ${capacity}; create it with a larger capacity`,
    );
    this.size = size;
    this.capacity = capacity;
  }
}

/**
 * A value could not be serialized (structured clone) to cross a thread boundary.
 *
 * @example
 * ```ts
 * cell.getOrInitSync(() => () => 1); // functions are not serializable
 * ```
 */
export class NotSerializableError extends MemkitError {
  /** @param what What was being serialized. @param cause The serializer's error. */
  constructor(what: string, cause: unknown) {
    super("ERR_MEMKIT_NOT_SERIALIZABLE", `${what} cannot be serialized with the structured clone algorithm`, { cause });
  }
}

registerErrorClasses({ ReentrantInitError, PoisonedError, CapacityExceededError, NotSerializableError });

/**
 * A blocking wait was asked for where the platform forbids one: `Atomics.wait` is not allowed on
 * a browser's main thread (use the async form, e.g. `await cell.getOrInit(...)`), or the cell was
 * written with a codec this runtime does not have.
 *
 * @example
 * ```ts
 * // in a page's main thread
 * try { cell.getOrInitSync(build); } catch (e) { if (e instanceof OnceUnsupportedError) await cell.getOrInit(build); }
 * ```
 */
export class OnceUnsupportedError extends MemkitError {
  /** @param message What is not supported here, and what to use instead. */
  constructor(message: string) {
    super("ERR_MEMKIT_UNSUPPORTED", message);
  }
}

registerErrorClasses({ OnceUnsupportedError });
