/** What `peek()` returns: the value if there is one, without initializing. */
export type Peek<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

/** What `getOrTryInit` returns instead of throwing. */
export type InitResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * What `trySet` returns: the stored value, or the rejected one handed back with what the cell
 * already holds (like Rust's `OnceCell::set` returning `Err(value)`).
 */
export type SetResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly value: T; readonly current: Peek<T> };

/** What happens when an initializer fails: `"poison"` remembers the failure, `"retry"` forgets it. */
export type FailurePolicy = "poison" | "retry";

/** @internal The four states every once-primitive moves through. */
export const EMPTY = 0;
/** @internal */
export const RUNNING = 1;
/** @internal */
export const DONE = 2;
/** @internal */
export const POISONED = 3;
