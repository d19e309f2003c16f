import { InvalidArgumentError } from "../internal/errors.js";
import { checkFunction } from "../internal/validate.js";
import { PoisonedError, ReentrantInitError } from "./errors.js";
import { DONE, EMPTY, type FailurePolicy, type Peek, POISONED, RUNNING } from "./result.js";

/** Options of `Lazy` and `AsyncLazy`. */
export interface LazyOptions {
  /**
   * What a failed initialization leaves behind: `"poison"` (like Rust's `LazyLock`) makes every
   * later access throw `PoisonedError` whose `cause` is the original error; `"retry"` runs the
   * initializer again on the next access.
   * @defaultValue "poison"
   */
  readonly onError?: FailurePolicy;
}

/**
 * @internal Checks an options argument: an object (or undefined) with only `known` keys, so a
 * misspelt option (`onerror`) is an error instead of silently ignored.
 */
export function checkOptionKeys(options: unknown, known: readonly string[], what: string): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(`${what} options must be an object, got ${String(options)}`);
  for (const key of Object.keys(options))
    if (!known.includes(key))
      throw new InvalidArgumentError(`Unknown ${what} option ${JSON.stringify(key)} (known: ${known.join(", ")})`);
}

/** @internal */
export function checkPolicy(policy: unknown): FailurePolicy {
  if (policy === undefined) return "poison";
  if (policy !== "poison" && policy !== "retry") {
    throw new InvalidArgumentError(`onError must be "poison" or "retry", got ${String(policy)}`);
  }
  return policy;
}

// Marks "not computed yet" so the hot path is one field load and one compare.
const UNSET: unique symbol = Symbol("unset");

/**
 * A value computed on first access and kept, like Rust's `LazyLock`, with an explicit failure
 * policy. Unlike `once`, `onetime` or `lodash.once`, a failed first call never turns into a
 * silent `undefined` forever.
 *
 * @example
 * ```ts
 * const table = new Lazy(() => buildLookupTable());
 * table.value[42];
 * ```
 */
export class Lazy<T> {
  #state = EMPTY;
  // TS-private rather than #private on the hot path: V8 reads plain fields without a brand check
  // (measured in bench/once.bench.ts: 0.57 vs 1.10 ns per read).
  private _value: T | typeof UNSET = UNSET;
  #error: unknown = undefined;
  readonly #init: () => T;
  readonly #policy: FailurePolicy;

  /**
   * @param init Computes the value on first access.
   * @param options Failure policy.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT when `init` is not a function, or for an unknown option or policy.
   */
  constructor(init: () => T, options: LazyOptions = {}) {
    this.#init = checkFunction<() => T>(init, "init");
    checkOptionKeys(options, ["onError"], "Lazy");
    this.#policy = checkPolicy(options.onError);
  }

  /**
   * The value, computing it on first access. The first failure throws the initializer's own error.
   *
   * @throws {PoisonedError} ERR_MEMKIT_POISONED on later accesses after a failure under "poison".
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when the initializer reads this value.
   */
  get value(): T {
    const value = this._value;
    return value !== UNSET ? value : this.#force();
  }

  /**
   * The value, computing it on first call: Rust's `Lazy::force`, the same as reading `value`.
   * @returns The value.
   * @throws {PoisonedError} ERR_MEMKIT_POISONED on later calls after a failure under "poison".
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when the initializer forces this value.
   * @example
   * ```ts
   * const table = lazyTable.force();
   * ```
   */
  force(): T {
    const value = this._value;
    return value !== UNSET ? value : this.#force();
  }

  /**
   * The value if it was already computed, else undefined; never runs the initializer (Rust's
   * `Lazy::get`). Use `force()` or `value` to compute it, `peek()` when undefined is a valid value.
   * @returns The value or undefined.
   * @example
   * ```ts
   * if (lazyTable.get() === undefined) console.log("table not built yet");
   * ```
   */
  get(): T | undefined {
    const value = this._value;
    return value !== UNSET ? value : undefined;
  }

  #force(): T {
    if (this.#state === RUNNING) throw new ReentrantInitError("Lazy");
    if (this.#state === POISONED) throw new PoisonedError("Lazy", this.#error);
    this.#state = RUNNING;
    let value: T;
    try {
      value = this.#init();
    } catch (error) {
      if (this.#policy === "poison") {
        this.#state = POISONED;
        this.#error = error;
      } else this.#state = EMPTY;
      throw error;
    }
    this.#state = DONE;
    this._value = value;
    // From now on `value` is a plain data property on the instance, shadowing the getter: reads
    // cost what reading any field costs (measured in bench/once.bench.ts).
    Object.defineProperty(this, "value", { value, enumerable: false, configurable: false, writable: false });
    return value;
  }

  /** True once the value was computed. */
  get isInitialized(): boolean {
    return this.#state === DONE;
  }

  /** True when the initializer failed under the "poison" policy. */
  get isPoisoned(): boolean {
    return this.#state === POISONED;
  }

  /**
   * The value if computed, without computing it.
   * @returns `{ ok: true, value }` or `{ ok: false }`.
   * @example
   * ```ts
   * lazy.peek().ok; // false before first access
   * ```
   */
  peek(): Peek<T> {
    return this.#state === DONE ? { ok: true, value: this._value as T } : { ok: false };
  }
}
