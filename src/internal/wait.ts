import { AbortedError, InvalidArgumentError, TimeoutError } from "./errors.js";
import { checkSize } from "./validate.js";

/** How long one caller is willing to wait, without cancelling the work it waits for. */
export interface WaitOptions {
  /** Stop waiting when this signal aborts (the work itself goes on for others). */
  readonly signal?: AbortSignal;
  /** Stop waiting after this many milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * Resolves with `promise`, or rejects with `AbortedError`/`TimeoutError` when this caller stops
 * waiting first. Listeners and timers are removed as soon as either side settles.
 */
export function waitFor<T>(promise: Promise<T>, what: string, options: WaitOptions = {}): Promise<T> {
  const { signal, timeoutMs } = options;
  if (signal === undefined && timeoutMs === undefined) return promise;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${typeof signal}`);
  }
  if (timeoutMs !== undefined) checkSize(timeoutMs, "timeoutMs", 0, 2 ** 31 - 1);
  if (signal?.aborted)
    return Promise.reject(new AbortedError(`Stopped waiting for ${what}: aborted`, { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      cleanup();
      reject(new AbortedError(`Stopped waiting for ${what}: aborted`, { cause: signal?.reason }));
    };
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(new TimeoutError(`Stopped waiting for ${what} after ${timeoutMs} ms`, timeoutMs));
      }, timeoutMs);
    }
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/** A promise that resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
