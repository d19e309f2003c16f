import { checkFunction } from "../internal/validate.js";
import { PoisonedError, ReentrantInitError } from "./errors.js";
import { DONE, EMPTY, POISONED, RUNNING } from "./result.js";

/** Handed to `callOnceForce`'s function: whether an earlier attempt failed. */
export interface OnceState {
  readonly isPoisoned: boolean;
}

/**
 * Runs a function exactly once, like Rust's `std::sync::Once`. If it throws, the `Once` is
 * poisoned: `callOnce` throws `PoisonedError` from then on, while `callOnceForce` runs again and
 * can see that it was poisoned.
 *
 * @example
 * ```ts
 * const setup = new Once();
 * setup.callOnce(() => installHooks());
 * setup.callOnce(() => installHooks()); // does nothing
 * ```
 */
export class Once {
  #state = EMPTY;
  #error: unknown = undefined;

  /**
   * Runs `fn` if no call has completed yet.
   *
   * @param fn The one-time work.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT when `fn` is not a function (the `Once` is unchanged).
   * @throws {PoisonedError} ERR_MEMKIT_POISONED when an earlier run threw (`cause` is its error).
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when `fn` calls back into this `Once`.
   * @example
   * ```ts
   * once.callOnce(() => console.log("only once"));
   * ```
   */
  callOnce(fn: () => void): void {
    // Checked first, before anything changes: a bad argument must not leave the Once poisoned.
    checkFunction(fn, "fn");
    if (this.#state === DONE) return;
    if (this.#state === POISONED) throw new PoisonedError("Once", this.#error);
    this.#run(fn);
  }

  /**
   * Runs `fn` if no call has completed, even when poisoned; `fn` sees whether it was. Success
   * clears the poison.
   *
   * @param fn The one-time work, given the state.
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when `fn` calls back into this `Once`.
   * @example
   * ```ts
   * once.callOnceForce((state) => { if (state.isPoisoned) cleanUp(); init(); });
   * ```
   */
  callOnceForce(fn: (state: OnceState) => void): void {
    checkFunction(fn, "fn");
    if (this.#state === DONE) return;
    const state = { isPoisoned: this.#state === POISONED };
    this.#run(() => fn(state));
  }

  #run(fn: () => void): void {
    if (this.#state === RUNNING) throw new ReentrantInitError("Once");
    this.#state = RUNNING;
    try {
      fn();
    } catch (error) {
      this.#state = POISONED;
      this.#error = error;
      throw error;
    }
    this.#state = DONE;
    this.#error = undefined;
  }

  /** True once a call completed. */
  get isCompleted(): boolean {
    return this.#state === DONE;
  }

  /** True when the last run threw. */
  get isPoisoned(): boolean {
    return this.#state === POISONED;
  }
}
