import { checkFunction } from "../internal/validate.js";
import { ReentrantInitError } from "./errors.js";
import { DONE, EMPTY, type InitResult, type Peek, RUNNING, type SetResult } from "./result.js";

/**
 * A cell written at most once, like Rust's `OnceCell`/`OnceLock`: a failing initializer leaves
 * it empty, so the next caller retries (no poisoning); an initializer that reads its own cell
 * gets a typed error instead of a stack overflow.
 *
 * @example
 * ```ts
 * const config = new OnceCell<Config>();
 * const value = config.getOrInit(() => loadConfig());
 * ```
 */
export class OnceCell<T> {
  #state = EMPTY;
  #value: T | undefined = undefined;

  /**
   * The value, or `undefined` while empty (use `peek()` when `undefined` is a valid value).
   * @returns The value or undefined.
   * @example
   * ```ts
   * cell.get();
   * ```
   */
  get(): T | undefined {
    return this.#value;
  }

  /**
   * Stores `value` if the cell is empty.
   *
   * @param value The value.
   * @returns True when this call stored it; false when the cell already held a value.
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when called from the running initializer.
   * @example
   * ```ts
   * cell.set(1); // true
   * cell.set(2); // false, still 1
   * ```
   */
  set(value: T): boolean {
    return this.trySet(value).ok;
  }

  /**
   * Like `set`, but hands the rejected value back with the one the cell holds (Rust's
   * `OnceCell::set` returning `Err(value)`, and `try_insert`), so it can be disposed of.
   *
   * @param value The value.
   * @returns `{ ok: true, value }`, or `{ ok: false, value, current: { ok: true, value: held } }`.
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when called from the running initializer.
   * @example
   * ```ts
   * const r = cell.trySet(openFile());
   * if (!r.ok) r.value.close(); // lost the race: close ours, keep the cell's
   * ```
   */
  trySet(value: T): SetResult<T> {
    if (this.#state === RUNNING) throw new ReentrantInitError("OnceCell");
    if (this.#state === DONE) return { ok: false, value, current: { ok: true, value: this.#value as T } };
    this.#value = value;
    this.#state = DONE;
    return { ok: true, value };
  }

  /**
   * The value, running `init` first if the cell is empty. If `init` throws, the cell stays empty
   * and the error propagates; the next call runs an initializer again.
   *
   * @param init Computes the value.
   * @returns The value.
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when `init` uses this cell.
   * @example
   * ```ts
   * cell.getOrInit(() => expensive());
   * ```
   */
  getOrInit(init: () => T): T {
    if (typeof init !== "function") checkFunction(init, "init");
    if (this.#state === DONE) return this.#value as T;
    return this.#initialize(init);
  }

  #initialize(init: () => T): T {
    if (this.#state === RUNNING) throw new ReentrantInitError("OnceCell");
    this.#state = RUNNING;
    let value: T;
    try {
      value = init();
    } catch (error) {
      this.#state = EMPTY;
      throw error;
    }
    this.#value = value;
    this.#state = DONE;
    return value;
  }

  /**
   * Like `getOrInit`, but returns `{ ok: false, error }` instead of throwing what `init` threw.
   *
   * @param init Computes the value.
   * @returns `{ ok: true, value }` or `{ ok: false, error }`.
   * @example
   * ```ts
   * const r = cell.getOrTryInit(() => JSON.parse(text));
   * if (!r.ok) console.error(r.error);
   * ```
   */
  getOrTryInit(init: () => T): InitResult<T> {
    try {
      return { ok: true, value: this.getOrInit(init) };
    } catch (error) {
      if (error instanceof ReentrantInitError) throw error;
      return { ok: false, error };
    }
  }

  /**
   * Empties the cell and returns what it held: Rust's `take` (and `into_inner`, since a JS cell
   * cannot be consumed).
   * @returns The value, or undefined when empty.
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when called from the running initializer.
   * @example
   * ```ts
   * const old = cell.take();
   * ```
   */
  take(): T | undefined {
    if (this.#state === RUNNING) throw new ReentrantInitError("OnceCell");
    const value = this.#value;
    this.#value = undefined;
    this.#state = EMPTY;
    return value;
  }

  /** True once a value is stored. */
  get isInitialized(): boolean {
    return this.#state === DONE;
  }

  /**
   * The value if there is one, without running anything.
   * @returns `{ ok: true, value }` or `{ ok: false }`.
   * @example
   * ```ts
   * const p = cell.peek();
   * if (p.ok) use(p.value);
   * ```
   */
  peek(): Peek<T> {
    return this.#state === DONE ? { ok: true, value: this.#value as T } : { ok: false };
  }
}
