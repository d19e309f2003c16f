import { InvalidArgumentError } from "../internal/errors.js";
import { checkFunction, checkSize } from "../internal/validate.js";
import { sleep, type WaitOptions, waitFor } from "../internal/wait.js";
import { PoisonedError, ReentrantInitError } from "./errors.js";
import { currentScope, runInScope } from "./init-scope.js";
import { checkOptionKeys, checkPolicy } from "./lazy.js";
import { DONE, EMPTY, type FailurePolicy, type Peek, POISONED, RUNNING, type SetResult } from "./result.js";

export type { WaitOptions };

/** Options of `AsyncOnceCell` and `AsyncLazy`. */
export interface AsyncOnceOptions {
  /**
   * After an initialization finally fails: `"retry"` leaves the cell empty so the next caller
   * starts a new one; `"poison"` makes every later call reject with `PoisonedError`.
   * @defaultValue "retry"
   */
  readonly onError?: FailurePolicy;
  /**
   * Extra attempts inside one initialization before it counts as failed (all waiters wait).
   * @defaultValue 0
   */
  readonly retries?: number;
  /**
   * Delay before the first retry; doubles each time up to `maxBackoffMs`.
   * @defaultValue 100
   */
  readonly backoffMs?: number;
  /** @defaultValue 10000 */
  readonly maxBackoffMs?: number;
}

/**
 * @internal Validates a caller's wait options up front, so that a bad one is reported before any
 * initializer starts (and as a rejection, by the caller).
 */
export function checkWait(wait: unknown): WaitOptions | undefined {
  if (wait === undefined) return undefined;
  if (typeof wait !== "object" || wait === null)
    throw new InvalidArgumentError(`wait options must be an object { signal?, timeoutMs? }, got ${String(wait)}`);
  const { signal, timeoutMs } = wait as WaitOptions;
  if (signal !== undefined && !(typeof AbortSignal !== "undefined" && signal instanceof AbortSignal))
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${typeof signal}`);
  if (timeoutMs !== undefined) checkSize(timeoutMs, "timeoutMs (milliseconds, 0..2^31-1)", 0, 2 ** 31 - 1);
  return wait as WaitOptions;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Waiters attach their own handlers; this one only keeps a rejection nobody waits for quiet.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * An async once-cell: concurrent callers share one in-flight initialization; a rejection is not
 * cached unless the policy says poison; each waiter may stop waiting (signal, timeout) without
 * cancelling the initialization for the others.
 *
 * @example
 * ```ts
 * const db = new AsyncOnceCell<Connection>({ retries: 2 });
 * const conn = await db.getOrInit(() => connect(url), { timeoutMs: 5000 });
 * ```
 */
export class AsyncOnceCell<T> {
  #state = EMPTY;
  #value: T | undefined = undefined;
  #error: unknown = undefined;
  #inflight: Promise<T> | undefined = undefined;
  #ready: Deferred<T> | undefined = undefined;
  readonly #policy: FailurePolicy;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;

  /**
   * @param options Failure policy, retries and backoff.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for an unknown option or policy.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad retry count or backoff.
   */
  constructor(options: AsyncOnceOptions = {}) {
    checkOptionKeys(options, ["onError", "retries", "backoffMs", "maxBackoffMs"], "AsyncOnceCell");
    this.#policy = options.onError === undefined ? "retry" : checkPolicy(options.onError);
    this.#retries = checkSize(options.retries ?? 0, "retries", 0, 1000);
    this.#backoffMs = checkSize(options.backoffMs ?? 100, "backoffMs", 0, 2 ** 31 - 1);
    this.#maxBackoffMs = checkSize(options.maxBackoffMs ?? 10_000, "maxBackoffMs", 0, 2 ** 31 - 1);
  }

  /**
   * The value, or `undefined` while not initialized (synchronous).
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
   * Stores `value` if the cell is empty and no initialization is running.
   * @param value The value.
   * @returns True when this call stored it.
   * @example
   * ```ts
   * cell.set(conn);
   * ```
   */
  set(value: T): boolean {
    return this.trySet(value).ok;
  }

  /**
   * Like `set`, but gives the rejected value back (Rust's `OnceCell::set` returning `Err(value)`),
   * with the value already there when there is one.
   * @param value The value.
   * @returns `{ ok: true, value }`, or `{ ok: false, value, current }` (current: `{ ok: false }` while an initialization runs).
   * @example
   * ```ts
   * const r = cell.trySet(conn);
   * if (!r.ok) conn.close(); // the cell kept its own
   * ```
   */
  trySet(value: T): SetResult<T> {
    if (this.#state !== EMPTY) return { ok: false, value, current: this.peek() };
    this.#store(value);
    return { ok: true, value };
  }

  /**
   * Empties the cell and hands back its value (Rust's `take` / `into_inner`); a poisoned cell is
   * reset to empty. Refused while an initialization runs, since its waiters expect it to land.
   * @returns `{ ok: true, value }` when there was a value, else `{ ok: false }`.
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT while an initialization is running.
   * @example
   * ```ts
   * const old = cell.take();
   * if (old.ok) await old.value.close();
   * ```
   */
  take(): Peek<T> {
    if (this.#state === RUNNING) throw new ReentrantInitError("AsyncOnceCell");
    const taken = this.peek();
    this.#state = EMPTY;
    this.#value = undefined;
    this.#error = undefined;
    return taken;
  }

  /**
   * The value, starting the initialization if none is running, or joining the running one. Every
   * problem, bad arguments included, is a rejection: this never throws synchronously.
   *
   * @param init Computes the value (may be async).
   * @param wait This caller's own signal and timeout.
   * @returns The value.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT (rejection) when `init` is not a function or `wait` is malformed.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE (rejection) for a bad `timeoutMs`; `init` is not started.
   * @throws {PoisonedError} ERR_MEMKIT_POISONED after a failure under "poison".
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when `init` awaits this cell.
   * @throws {AbortedError} ERR_MEMKIT_ABORTED / {TimeoutError} ERR_MEMKIT_TIMEOUT for this waiter only.
   * @example
   * ```ts
   * await cell.getOrInit(async () => fetchConfig());
   * ```
   */
  getOrInit(init: () => T | Promise<T>, wait?: WaitOptions): Promise<T> {
    try {
      checkFunction(init, "init");
      const options = checkWait(wait);
      if (this.#state === DONE) return Promise.resolve(this.#value as T);
      if (this.#state === POISONED) return Promise.reject(new PoisonedError("AsyncOnceCell", this.#error));
      if (currentScope()?.has(this)) return Promise.reject(new ReentrantInitError("AsyncOnceCell"));
      const inflight = this.#inflight ?? this.#start(init);
      return waitFor(inflight, "the AsyncOnceCell", options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #store(value: T): void {
    this.#value = value;
    this.#state = DONE;
    this.#ready?.resolve(value);
    this.#ready = undefined;
  }

  /**
   * Waits until the cell holds a value, without initializing it (Rust's `OnceLock::wait`): for
   * code that must not start the work but needs its result (set by `getOrInit` or `set` elsewhere).
   * @param wait This caller's own signal and timeout.
   * @returns The value, once stored.
   * @throws {PoisonedError} ERR_MEMKIT_POISONED (rejection) when the cell is or becomes poisoned.
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT (rejection) when called from this cell's initializer.
   * @throws {AbortedError} ERR_MEMKIT_ABORTED / {TimeoutError} ERR_MEMKIT_TIMEOUT for this waiter only.
   * @example
   * ```ts
   * const conn = await db.wait({ timeoutMs: 5000 }); // someone else connects
   * ```
   */
  wait(wait?: WaitOptions): Promise<T> {
    try {
      const options = checkWait(wait);
      if (this.#state === DONE) return Promise.resolve(this.#value as T);
      if (this.#state === POISONED) return Promise.reject(new PoisonedError("AsyncOnceCell", this.#error));
      if (currentScope()?.has(this)) return Promise.reject(new ReentrantInitError("AsyncOnceCell"));
      this.#ready ??= deferred<T>();
      return waitFor(this.#ready.promise, "the AsyncOnceCell value", options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #start(init: () => T | Promise<T>): Promise<T> {
    this.#state = RUNNING;
    const inflight = runInScope(this, () => this.#attempts(init)).then(
      (value) => {
        this.#inflight = undefined;
        this.#store(value);
        return value;
      },
      (error: unknown) => {
        this.#inflight = undefined;
        if (this.#policy === "poison") {
          this.#state = POISONED;
          this.#error = error;
          this.#ready?.reject(new PoisonedError("AsyncOnceCell", error));
          this.#ready = undefined;
        } else this.#state = EMPTY;
        throw error;
      },
    );
    this.#inflight = inflight;
    return inflight;
  }

  async #attempts(init: () => T | Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await init();
      } catch (error) {
        if (attempt >= this.#retries || error instanceof ReentrantInitError) throw error;
        await sleep(Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** attempt));
      }
    }
  }

  /** True once a value is stored. */
  get isInitialized(): boolean {
    return this.#state === DONE;
  }

  /** True after a failure under "poison". */
  get isPoisoned(): boolean {
    return this.#state === POISONED;
  }

  /**
   * The value if there is one, without initializing.
   * @returns `{ ok: true, value }` or `{ ok: false }`.
   * @example
   * ```ts
   * if (cell.peek().ok) console.log("ready");
   * ```
   */
  peek(): Peek<T> {
    return this.#state === DONE ? { ok: true, value: this.#value as T } : { ok: false };
  }
}

/**
 * An async value computed on first `force()` and shared by every concurrent caller; see
 * `AsyncOnceCell` for the policies.
 *
 * @example
 * ```ts
 * const schema = new AsyncLazy(() => loadSchema());
 * await schema.force();
 * ```
 */
export class AsyncLazy<T> {
  readonly #cell: AsyncOnceCell<T>;
  readonly #init: () => T | Promise<T>;

  /**
   * @param init Computes the value (may be async).
   * @param options Failure policy, retries and backoff.
   */
  constructor(init: () => T | Promise<T>, options: AsyncOnceOptions = {}) {
    this.#init = checkFunction<() => T | Promise<T>>(init, "init");
    this.#cell = new AsyncOnceCell<T>(options);
  }

  /**
   * The value, computing it on first call (Rust's `Lazy::force`); concurrent callers share one
   * computation.
   * @param wait This caller's own signal and timeout.
   * @returns The value.
   * @throws {PoisonedError} ERR_MEMKIT_POISONED after a failure under "poison".
   * @example
   * ```ts
   * const v = await lazy.force({ timeoutMs: 1000 });
   * ```
   */
  force(wait?: WaitOptions): Promise<T> {
    return this.#cell.getOrInit(this.#init, wait);
  }

  /**
   * The value if already computed, else undefined; never starts the computation (Rust's
   * `Lazy::get`). Use `force()` to compute it.
   * @returns The value or undefined.
   * @example
   * ```ts
   * lazy.get() ?? "not loaded yet";
   * ```
   */
  get(): T | undefined {
    return this.#cell.get();
  }

  /** True once computed. */
  get isInitialized(): boolean {
    return this.#cell.isInitialized;
  }

  /**
   * The value if computed, without computing it.
   * @returns `{ ok: true, value }` or `{ ok: false }`.
   * @example
   * ```ts
   * lazy.peek();
   * ```
   */
  peek(): Peek<T> {
    return this.#cell.peek();
  }
}
