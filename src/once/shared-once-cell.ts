import { InvalidArgumentError } from "../internal/errors.js";
import { reviveError, serializeError } from "../internal/serialize-error.js";
import { checkFunction, checkSize } from "../internal/validate.js";
import { CapacityExceededError, NotSerializableError, PoisonedError, ReentrantInitError } from "./errors.js";
import { currentScope, runInScope } from "./init-scope.js";
import { checkOptionKeys } from "./lazy.js";
import type { FailurePolicy, Peek } from "./result.js";
import {
  blockingWait,
  CODEC_PORTABLE,
  CODEC_V8,
  type Codec,
  codecOf,
  type Owner,
  owners,
  requireSharedMemory,
  v8Codec,
  waitAsync,
} from "./shared-memory.js";

/**
 * Layout of the shared memory (Int32 words, then the value's bytes):
 * ```
 *  word 0  STATE    (ticket << 3) | phase      phase: EMPTY RUNNING PUBLISHING DONE POISONED
 *  word 1  INITS    how many initializers started (exactly 1 when nothing failed or died)
 *  word 2  LENGTH   bytes of the published value (or error)
 *  word 3  LEASE    ms after EPOCH until which the running initializer is presumed alive
 *  word 4  LEASE_MS lease length        word 5 POLICY (0 retry, 1 poison)   word 6 MAGIC
 *  word 7  CODEC    0 or 1: v8.serialize; 2: the portable codec (portable-codec.ts)
 *  bytes 32..40     EPOCH (Float64, Date.now() at creation)
 *  bytes 64..       the value, serialized with the cell's codec
 * ```
 * The ticket makes takeovers safe: a new initializer bumps it, so a presumed-dead initializer
 * that wakes up later cannot publish over the new one (its compare-exchange fails).
 */
const STATE = 0;
const INITS = 1;
const LENGTH = 2;
const LEASE = 3;
const LEASE_MS = 4;
const POLICY = 5;
const MAGIC_WORD = 6;
const CODEC = 7;
const MAGIC = 0x4f4e4345; // "ONCE"
const EPOCH_BYTE = 32;
const DATA = 64;

const EMPTY = 0;
const RUNNING = 1;
const PUBLISHING = 2;
const DONE = 3;
const POISONED = 4;

/** Options of a new `SharedOnceCell`. */
export interface SharedOnceCellOptions {
  /**
   * Bytes reserved for the serialized value.
   * @defaultValue 65536
   */
  readonly capacity?: number;
  /**
   * How long a running initializer is presumed alive. When it has not published by then (its
   * worker was terminated or exited), a waiting thread takes over. An async initializer renews its
   * lease while it runs; a synchronous one must finish within it.
   * @defaultValue 10000
   */
  readonly leaseMs?: number;
  /**
   * When an initializer throws: `"retry"` lets a waiting thread try instead; `"poison"` publishes
   * the error and every thread's access throws `PoisonedError` with it as `cause`.
   * @defaultValue "retry"
   */
  readonly onError?: FailurePolicy;
  /**
   * How values are turned into bytes: `"v8"` (`v8.serialize`, Node/Deno/Bun: everything structured
   * clone carries), `"portable"` (no Node API, for browsers: see the README for the types it
   * carries), or `"auto"`: v8 when the runtime has it, else portable.
   * @defaultValue "auto"
   */
  readonly codec?: "auto" | "v8" | "portable";
}

type Step = { kind: "value" } | { kind: "own"; ticket: number } | { kind: "wait"; observed: number; timeoutMs: number };

/**
 * A once-cell in a `SharedArrayBuffer` for `worker_threads`: exactly one thread in the process
 * runs the initializer; the others wait (`getOrInitSync` blocks, for workers; `getOrInit` does
 * not, for the main thread) and read the same value, published once as bytes.
 *
 * @example
 * ```ts
 * // main thread
 * const cell = new SharedOnceCell<Map<string, number>>({ capacity: 1 << 20 });
 * new Worker(file, { workerData: cell.buffer });
 * // in each worker
 * const shared = SharedOnceCell.attach<Map<string, number>>(workerData);
 * const table = shared.getOrInitSync(() => buildTable());
 * ```
 */
export class SharedOnceCell<T> {
  /** The shared memory: hand it to workers and `SharedOnceCell.attach` it there. */
  readonly buffer: SharedArrayBuffer;
  readonly #w: Int32Array;
  readonly #epoch: number;
  readonly #codec: Codec;
  #local: Peek<T> = { ok: false };

  /**
   * @param options Capacity, lease and failure policy.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad capacity or lease.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for a bad policy or codec, or a buffer that holds no cell.
   * @throws {OnceUnsupportedError} ERR_MEMKIT_UNSUPPORTED for `codec: "v8"` where `node:v8` is missing, or
   * where SharedArrayBuffer is unavailable (a page that is not cross-origin isolated).
   */
  constructor(options: SharedOnceCellOptions | SharedArrayBuffer = {}) {
    requireSharedMemory();
    if (options instanceof SharedArrayBuffer) {
      if (options.byteLength < DATA) {
        throw new InvalidArgumentError(
          `The buffer (${options.byteLength} bytes) is too small to hold a SharedOnceCell (at least ${DATA}): pass the \`buffer\` of one`,
        );
      }
      this.buffer = options;
      this.#w = new Int32Array(options, 0, 8);
      if (Atomics.load(this.#w, MAGIC_WORD) !== MAGIC) {
        throw new InvalidArgumentError("The buffer does not hold a SharedOnceCell: pass the `buffer` of one");
      }
    } else {
      checkOptionKeys(options, ["capacity", "leaseMs", "onError", "codec"], "SharedOnceCell");
      const capacity = checkSize(options.capacity ?? 65536, "capacity (bytes, 1..2^30)", 1, 2 ** 30);
      const leaseMs = checkSize(options.leaseMs ?? 10_000, "leaseMs (1..2^30)", 1, 2 ** 30);
      const policy = options.onError ?? "retry";
      if (policy !== "retry" && policy !== "poison") {
        throw new InvalidArgumentError(`onError must be "poison" or "retry", got ${String(policy)}`);
      }
      const codec = options.codec ?? "auto";
      if (codec !== "auto" && codec !== "v8" && codec !== "portable")
        throw new InvalidArgumentError(`codec must be "auto", "v8" or "portable", got ${String(codec)}`);
      const codecId = codec === "portable" || (codec === "auto" && v8Codec === undefined) ? CODEC_PORTABLE : CODEC_V8;
      codecOf(codecId);
      this.buffer = new SharedArrayBuffer(DATA + capacity);
      this.#w = new Int32Array(this.buffer, 0, 8);
      this.#w[LEASE_MS] = leaseMs;
      this.#w[POLICY] = policy === "poison" ? 1 : 0;
      this.#w[CODEC] = codecId;
      new Float64Array(this.buffer, EPOCH_BYTE, 1)[0] = Date.now();
      Atomics.store(this.#w, MAGIC_WORD, MAGIC);
    }
    this.#codec = codecOf(Atomics.load(this.#w, CODEC));
    this.#epoch = new Float64Array(this.buffer, EPOCH_BYTE, 1)[0] as number;
  }

  /**
   * Opens, in another thread, the cell whose `buffer` was sent there.
   *
   * @param buffer The cell's `buffer`.
   * @returns The same cell, seen from this thread.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT when the buffer holds no cell.
   * @throws {OnceUnsupportedError} ERR_MEMKIT_UNSUPPORTED where SharedArrayBuffer is unavailable.
   * @example
   * ```ts
   * const cell = SharedOnceCell.attach<Config>(workerData.cell);
   * ```
   */
  static attach<T>(buffer: SharedArrayBuffer): SharedOnceCell<T> {
    requireSharedMemory();
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new InvalidArgumentError("SharedOnceCell.attach needs the SharedArrayBuffer of a SharedOnceCell");
    }
    return new SharedOnceCell<T>(buffer);
  }

  /** Bytes reserved for the value. */
  get capacity(): number {
    return this.buffer.byteLength - DATA;
  }

  /** How many initializers have started, in all threads (1 when none failed or died). */
  get initCount(): number {
    return Atomics.load(this.#w, INITS);
  }

  /** True once a value is published. */
  get isInitialized(): boolean {
    return this.#local.ok || (Atomics.load(this.#w, STATE) & 7) === DONE;
  }

  /**
   * The value if published (deserialized once per thread, then cached), else undefined.
   * @returns The value or undefined.
   * @throws {PoisonedError} ERR_MEMKIT_POISONED when the cell is poisoned.
   * @example
   * ```ts
   * cell.get();
   * ```
   */
  get(): T | undefined {
    const local = this.#local;
    if (local.ok) return local.value;
    const peek = this.peek();
    return peek.ok ? peek.value : undefined;
  }

  /**
   * The value if published, without initializing.
   * @returns `{ ok: true, value }` or `{ ok: false }`.
   * @throws {PoisonedError} ERR_MEMKIT_POISONED when the cell is poisoned.
   * @example
   * ```ts
   * if (cell.peek().ok) console.log("ready");
   * ```
   */
  peek(): Peek<T> {
    if (this.#local.ok) return this.#local;
    const phase = Atomics.load(this.#w, STATE) & 7;
    if (phase === POISONED) throw this.#poisoned();
    if (phase !== DONE) return { ok: false };
    this.#local = { ok: true, value: this.#codec.decode(this.#bytes()) as T };
    return this.#local;
  }

  #bytes(): Uint8Array {
    // A private copy: decoders must not read memory another thread may still write.
    return new Uint8Array(this.buffer, DATA, Atomics.load(this.#w, LENGTH)).slice();
  }

  #poisoned(): PoisonedError {
    const bytes = this.#bytes();
    return new PoisonedError("SharedOnceCell", bytes.length === 0 ? undefined : reviveError(this.#codec.decode(bytes)));
  }

  #now(): number {
    return Date.now() - this.#epoch;
  }

  /** One step of the protocol: read, win the right to initialize, or say what to wait on. */
  #step(): Step {
    for (;;) {
      const state = Atomics.load(this.#w, STATE);
      const phase = state & 7;
      const ticket = state >>> 3;
      if (phase === DONE) return { kind: "value" };
      if (phase === POISONED) throw this.#poisoned();
      const remaining = Atomics.load(this.#w, LEASE) - this.#now();
      // Empty, or the running initializer outlived its lease (its thread died): take over.
      if (phase === EMPTY || (phase === RUNNING && remaining < 0)) {
        const next = ((ticket + 1) << 3) | RUNNING;
        // The lease is written before the state says RUNNING: a thread that sees the new state
        // must never read the old lease (0 at first) and take over a live initializer. A
        // contender that loses the race has only written another fresh lease, which is harmless.
        Atomics.store(this.#w, LEASE, this.#now() + (this.#w[LEASE_MS] as number));
        if (Atomics.compareExchange(this.#w, STATE, state, next) !== state) continue;
        Atomics.store(this.#w, LEASE, this.#now() + (this.#w[LEASE_MS] as number));
        Atomics.add(this.#w, INITS, 1);
        return { kind: "own", ticket: ticket + 1 };
      }
      return { kind: "wait", observed: state, timeoutMs: Math.max(1, remaining + 1) };
    }
  }

  #publish(ticket: number, bytes: Uint8Array, phase: number): boolean {
    const running = (ticket << 3) | RUNNING;
    if (Atomics.compareExchange(this.#w, STATE, running, (ticket << 3) | PUBLISHING) !== running) return false;
    new Uint8Array(this.buffer, DATA, bytes.length).set(bytes);
    Atomics.store(this.#w, LENGTH, bytes.length);
    Atomics.store(this.#w, STATE, (ticket << 3) | phase);
    Atomics.notify(this.#w, STATE);
    return true;
  }

  #serializeValue(value: T): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.#codec.encode(value);
    } catch (error) {
      throw new NotSerializableError("The SharedOnceCell value", error);
    }
    if (bytes.length > this.capacity) throw new CapacityExceededError(bytes.length, this.capacity);
    return bytes;
  }

  #encodeError(error: unknown): Uint8Array {
    try {
      return this.#codec.encode(serializeError(error));
    } catch {
      return this.#codec.encode(serializeError(new Error(String(error).slice(0, 200))));
    }
  }

  /**
   * Publishes a success (returns the value) or handles a failure by policy (throws it). Returns
   * undefined when another thread took over meanwhile: the caller then reads that thread's value.
   */
  #finish(ticket: number, outcome: { ok: true; value: T } | { ok: false; error: unknown }): { value: T } | undefined {
    if (outcome.ok) {
      let bytes: Uint8Array;
      try {
        bytes = this.#serializeValue(outcome.value);
      } catch (error) {
        return this.#finish(ticket, { ok: false, error });
      }
      if (!this.#publish(ticket, bytes, DONE)) return undefined;
      this.#local = { ok: true, value: outcome.value };
      return this.#local;
    }
    if (this.#w[POLICY] === 1) {
      let bytes = this.#encodeError(outcome.error);
      if (bytes.length > this.capacity) bytes = this.#encodeError(new Error(String(outcome.error).slice(0, 200)));
      // Too small even for that: publish the poison without its cause rather than not at all.
      this.#publish(ticket, bytes.length > this.capacity ? new Uint8Array(0) : bytes, POISONED);
    } else {
      const running = (ticket << 3) | RUNNING;
      Atomics.compareExchange(this.#w, STATE, running, (ticket << 3) | EMPTY);
      Atomics.notify(this.#w, STATE);
    }
    throw outcome.error;
  }

  /**
   * The value, running `init` in this thread if no thread has started it, else blocking until the
   * initializing thread publishes (or dies and this thread takes over). For workers: on the main
   * thread prefer `getOrInit`, which does not block the event loop.
   *
   * @param init Computes the value (synchronously).
   * @returns The value.
   * @throws {CapacityExceededError} ERR_MEMKIT_CAPACITY_EXCEEDED when the value does not fit.
   * @throws {NotSerializableError} ERR_MEMKIT_NOT_SERIALIZABLE when it cannot be cloned.
   * @throws {PoisonedError} ERR_MEMKIT_POISONED after a failure under "poison".
   * @example
   * ```ts
   * const table = cell.getOrInitSync(() => buildTable());
   * ```
   */
  getOrInitSync(init: () => T): T {
    checkFunction(init, "init");
    if (this.#local.ok) return this.#local.value;
    for (;;) {
      // This thread already runs this cell's initializer: blocking would wait for ourselves.
      if (owners.has(this.buffer)) throw new ReentrantInitError("SharedOnceCell");
      const step = this.#step();
      if (step.kind === "value") return this.get() as T;
      if (step.kind === "wait") {
        blockingWait(this.#w, step.observed, step.timeoutMs);
        continue;
      }
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      owners.set(this.buffer, { inflight: undefined });
      try {
        outcome = { ok: true, value: runInScope(this.buffer, init) };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        owners.delete(this.buffer);
      }
      const published = this.#finish(step.ticket, outcome);
      if (published !== undefined) return published.value;
    }
  }

  /**
   * The value, without blocking: like `getOrInitSync` but `init` may be async and waiting uses
   * `Atomics.waitAsync` (keeping the event loop alive meanwhile), so it suits the main thread.
   * An async initializer renews its lease. Callers in the thread that runs the initializer share
   * it; the initializer itself awaiting this cell is `ReentrantInitError` (where
   * `AsyncLocalStorage` exists; in browsers only before the initializer's first `await`).
   *
   * @param init Computes the value (may be async).
   * @returns The value.
   * @throws {CapacityExceededError} ERR_MEMKIT_CAPACITY_EXCEEDED when the value does not fit.
   * @throws {PoisonedError} ERR_MEMKIT_POISONED after a failure under "poison".
   * @throws {ReentrantInitError} ERR_MEMKIT_REENTRANT_INIT when `init` waits on this cell.
   * @example
   * ```ts
   * const table = await cell.getOrInit(async () => buildTable());
   * ```
   */
  async getOrInit(init: () => T | Promise<T>): Promise<T> {
    checkFunction(init, "init");
    for (;;) {
      if (this.#local.ok) return this.#local.value;
      const owner = owners.get(this.buffer);
      if (owner !== undefined) {
        if (owner.inflight === undefined || currentScope()?.has(this.buffer))
          throw new ReentrantInitError("SharedOnceCell");
        await owner.inflight.catch(() => undefined);
        continue;
      }
      const step = this.#step();
      if (step.kind === "value") return this.get() as T;
      if (step.kind === "wait") {
        await waitAsync(this.#w, step.observed, step.timeoutMs);
        continue;
      }
      // Registered before `init` starts: a call from its synchronous part is re-entrant.
      const mine: Owner = { inflight: undefined };
      owners.set(this.buffer, mine);
      const run = this.#runAsync(step.ticket, init);
      mine.inflight = run;
      const published = await run;
      if (published !== undefined) return published.value;
    }
  }

  async #runAsync(ticket: number, init: () => T | Promise<T>): Promise<{ value: T } | undefined> {
    const renew = setInterval(
      () => Atomics.store(this.#w, LEASE, this.#now() + (this.#w[LEASE_MS] as number)),
      Math.max(1, (this.#w[LEASE_MS] as number) / 3),
    );
    (renew as { unref?: () => void }).unref?.();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await runInScope(this.buffer, init) };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      clearInterval(renew);
      // Cleared before the promise settles, so callers that joined it re-check a free cell.
      owners.delete(this.buffer);
    }
    return this.#finish(ticket, outcome);
  }
}
