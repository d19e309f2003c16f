import { SharedMemoryUnavailableError } from "../internal/errors.js";
import { OnceUnsupportedError } from "./errors.js";
import { decodePortable, encodePortable } from "./portable-codec.js";

/**
 * The platform side of `SharedOnceCell`: how values become bytes (v8 or the portable codec),
 * which cells this thread is initializing, and waiting on the STATE word (word 0) with or
 * without blocking.
 */

/** @internal Codec ids stored in the CODEC word. */
export const CODEC_V8 = 1;
/** @internal */
export const CODEC_PORTABLE = 2;

/** @internal How a value becomes bytes and back. */
export interface Codec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

// node:v8 through process.getBuiltinModule: no `node:` import on this module's path, so it loads
// in a browser, where the portable codec is used instead.
const v8 = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  "node:v8",
) as { serialize(value: unknown): Uint8Array; deserialize(bytes: Uint8Array): unknown } | undefined;

const portable: Codec = { encode: encodePortable, decode: decodePortable };
/** @internal The v8 codec, where the runtime has node:v8. */
export const v8Codec: Codec | undefined =
  v8 === undefined ? undefined : { encode: (v) => v8.serialize(v), decode: (b) => v8.deserialize(b) };

/** @internal The codec for a stored id. */
export function codecOf(id: number): Codec {
  if (id === CODEC_PORTABLE) return portable;
  if (v8Codec === undefined) {
    throw new OnceUnsupportedError(
      'This SharedOnceCell stores values with v8.serialize, which this runtime lacks; create it with { codec: "portable" }',
    );
  }
  return v8Codec;
}

// Which cells (by buffer) have their initializer running in this thread, shared by every copy of
// this module in the realm: a thread that waited on its own initializer would wait forever.
/** @internal */
export interface Owner {
  /** Settles when this thread's async initializer does; undefined while a sync one runs. */
  inflight: Promise<unknown> | undefined;
}
const OWNERS = Symbol.for("memkit.once.sharedOwners");
const realm = globalThis as Record<symbol, unknown>;
if (!(realm[OWNERS] instanceof WeakMap)) realm[OWNERS] = new WeakMap<SharedArrayBuffer, Owner>();
/** @internal */
export const owners: WeakMap<SharedArrayBuffer, Owner> = realm[OWNERS] as WeakMap<SharedArrayBuffer, Owner>;

/** @internal Throws the typed error where SharedArrayBuffer is missing. */
export function requireSharedMemory(): void {
  if (typeof SharedArrayBuffer === "undefined") {
    throw new SharedMemoryUnavailableError(
      "A SharedOnceCell",
      "use a OnceCell or AsyncOnceCell, which need no shared memory, within one thread",
    );
  }
}

/** @internal `Atomics.wait` on the STATE word, or the typed error where blocking is not allowed. */
export function blockingWait(words: Int32Array, observed: number, timeoutMs: number): void {
  try {
    Atomics.wait(words, 0, observed, timeoutMs);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new OnceUnsupportedError(
      "getOrInitSync cannot block on this thread (Atomics.wait is not allowed on a browser's main thread); use `await cell.getOrInit(init)` there",
    );
  }
}

/** @internal `Atomics.waitAsync` on the STATE word, keeping the event loop alive meanwhile. */
export async function waitAsync(words: Int32Array, observed: number, timeoutMs: number): Promise<void> {
  // Atomics.waitAsync alone does not keep Node's event loop alive: without this timer, a main
  // thread waiting out a dead worker's lease would see its process exit (code 13) mid-wait. The
  // timer must outlive the wait: one of the same length can fire just before waitAsync's own
  // timeout settles, leaving a moment with nothing alive (seen in CI: exit 13, about 1 run in 10).
  // An interval lasts until the finally clears it, however late the wait settles.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    if (typeof Atomics.waitAsync !== "function") {
      await new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 5)));
      return;
    }
    const waiting = Atomics.waitAsync(words, 0, observed, timeoutMs);
    if (waiting.async) await waiting.value;
  } finally {
    clearInterval(keepAlive);
  }
}
