import { type Leaked, leak } from "../once/index.js";
import type { Native, NativeOwned } from "./native.js";

/**
 * Allocations a callback makes for C: handed to C when the callback returns normally, freed when
 * it throws (so a failed callback leaks nothing).
 */
export interface CallbackScope {
  /** libc `malloc` for C to own. */
  malloc(bytes: number): bigint;
  /** libc `calloc` for C to own. */
  calloc(count: number, size: number): bigint;
  /** libc `strdup` for C to own. */
  strdup(text: string): bigint;
}

/** Options of `nativeCallback`. */
export interface NativeCallbackOptions {
  /** What C receives when the JavaScript function throws (koffi alone would hand C a 0). */
  readonly onError: number;
  /** A name for `leaked()` reports. @defaultValue "native callback" */
  readonly label?: string;
}

/**
 * A JavaScript function C can call through a function pointer, kept alive on purpose while C may
 * call it (listed by `leaked()` from memkit/once) and unregistered by `release()`.
 *
 * @example
 * ```ts
 * using cb = nativeCallback(native, ConvProto, (scope, n) => { ... return 0; }, { onError: 19 });
 * pam_start(..., { conv: cb.pointer }, ...);
 * ```
 */
export class NativeCallback {
  /** The function pointer to give C. */
  readonly pointer: bigint;
  /** What the function threw the last time it failed (C saw `onError`). */
  lastError: unknown = undefined;
  /** Calls so far. */
  calls = 0;
  readonly #native: Native;
  readonly #pin: Leaked;
  #released = false;

  /** @internal Use `nativeCallback()`. */
  constructor(native: Native, pointer: bigint, pin: Leaked) {
    this.#native = native;
    this.pointer = pointer;
    this.#pin = pin;
  }

  /**
   * Unregisters the function: C must not call the pointer any more. Idempotent.
   * @example
   * ```ts
   * cb.release();
   * ```
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#native.koffi.unregister(this.pointer);
    this.#pin.release();
  }

  /** Releases at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * Registers `fn` as a C callback of type `prototype` (from `native.koffi.proto(...)`). `fn` gets
 * a scope for the memory it hands C; if `fn` throws, that memory is freed, the error is kept in
 * `lastError`, and C receives `options.onError`.
 *
 * @param native From `loadNative()`.
 * @param prototype The callback type.
 * @param fn The JavaScript implementation.
 * @param options The error code for C, a label.
 * @returns The callback handle.
 * @example
 * ```ts
 * const cb = nativeCallback(native, Compare, (_scope, a, b) => a - b, { onError: 0 });
 * ```
 */
export function nativeCallback<A extends unknown[]>(
  native: Native,
  prototype: object,
  fn: (scope: CallbackScope, ...args: A) => number,
  options: NativeCallbackOptions,
): NativeCallback {
  let handle: NativeCallback | undefined;
  const wrapper = (...args: A): number => {
    const made: NativeOwned[] = [];
    const scope: CallbackScope = {
      malloc: (bytes) => remember(native.malloc(bytes)),
      calloc: (count, size) => remember(native.calloc(count, size)),
      strdup: (text) => remember(native.strdup(text)),
    };
    function remember(owned: NativeOwned): bigint {
      made.push(owned);
      return owned.ptr;
    }
    if (handle !== undefined) handle.calls++;
    try {
      const result = fn(scope, ...args);
      for (const owned of made) owned.intoRaw();
      return result;
    } catch (error) {
      for (const owned of made) owned.free();
      if (handle !== undefined) handle.lastError = error;
      return options.onError;
    }
  };
  const pointer = native.koffi.register(wrapper, native.koffi.pointer(prototype));
  handle = new NativeCallback(native, pointer, leak(wrapper, options.label ?? "native callback"));
  return handle;
}
