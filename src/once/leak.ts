/** One value kept alive on purpose, from `leak()`. */
export interface Leaked<T = unknown> {
  readonly value: T;
  readonly label: string;
  /** Where `leak()` was called (first stack frame outside memkit). */
  readonly site: string;
  /** Stops pinning the value; it can be collected again once unreferenced. Idempotent. */
  release(): void;
}

const pinned = new Set<Leaked>();

// This file as stack traces name it (its URL, or its source-mapped path): frames from it are
// memkit's own, whatever folder a user's file of the same name lives in.
const ownFile = /([^\s()@]+):\d+:\d+\)?$/.exec((new Error("probe").stack ?? "").split("\n")[1] ?? "")?.[1];

function callerSite(): string {
  const lines = (new Error("site").stack ?? "").split("\n").slice(1);
  const outside = lines.find((line) => ownFile === undefined || !line.includes(`${ownFile}:`));
  return (outside ?? "").trim();
}

/**
 * Keeps `value` reachable for the rest of the process on purpose (Rust's `Box::leak`): for
 * callbacks handed to native code, configuration built at run time, anything that must never be
 * collected. Every pin is listed by `leaked()` with its label and call site, so intentional leaks
 * stay visible, and `release()` undoes it.
 *
 * @param value What to keep alive.
 * @param label A name for reports.
 * @returns A handle with the value, label, site and `release()`.
 * @example
 * ```ts
 * const handle = leak(callback, "libfoo progress callback");
 * // ... later, when the native side is done with it:
 * handle.release();
 * ```
 */
export function leak<T>(value: T, label = "(unlabelled)"): Leaked<T> {
  const entry: Leaked<T> = {
    value,
    label: String(label),
    site: callerSite(),
    release() {
      pinned.delete(entry);
    },
  };
  pinned.add(entry);
  return entry;
}

/**
 * Every value currently pinned by `leak()`, oldest first.
 *
 * @returns The pins.
 * @example
 * ```ts
 * for (const { label, site } of leaked()) console.log(label, site);
 * ```
 */
export function leaked(): Leaked[] {
  return [...pinned];
}
