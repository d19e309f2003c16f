import { freshSeed, seededU32 } from "../internal/random.js";
import type { Allocator } from "./allocator.js";
import { isBenign } from "./benign.js";
import { AllocError } from "./errors.js";
import { checkFaultOptions, type FaultOptions, parseFaultSpec } from "./fault-options.js";
import { checkAllocator } from "./numeric.js";
import { userStack } from "./own-frames.js";

export type { FaultOptions };

/** One allocation the injector saw (all of them with `recordAllSites`, else only injections). */
export interface AllocationRecord {
  /** 1-based number of the allocation. */
  readonly n: number;
  readonly bytes: number;
  readonly injected: boolean;
  /** True when it happened inside a benign-failure region (`benign()` / `benignRegion()`). */
  readonly benign: boolean;
  /** The stack at the allocation, without memkit's own frames. */
  readonly stack: string;
}

const matches = (stack: string, patterns: readonly (string | RegExp)[]) =>
  patterns.some((p) => (typeof p === "string" ? stack.includes(p) : p.test(stack)));

/**
 * Fails allocations on purpose, reproducibly, to test the code paths that handle failure. Every
 * injection is recorded with its stack; `report()` prints them. Stack it over any allocator.
 *
 * @example
 * ```ts
 * const faulty = new FaultInjector(new HeapAllocator(heap), { probability: 0.1, seed: 42, times: 3 });
 * runWorkload(faulty);
 * console.log(faulty.report());
 * ```
 */
export class FaultInjector implements Allocator {
  readonly heap: Allocator["heap"];
  lastError: AllocError | undefined = undefined;
  /** Allocations seen (malloc and realloc). */
  count = 0;
  /** Failures injected. */
  failures = 0;
  /** Of those, how many were inside a benign-failure region. */
  benignFailures = 0;
  /** Allocations that passed the filters (minSize, include/exclude, space): what `nth` and `interval` count. */
  eligible = 0;
  /** The seed of this injector's generator: pass it as `seed` to replay the run. */
  readonly seed: number;
  /** Injected failures (and, with `recordAllSites`, every allocation). */
  readonly records: AllocationRecord[] = [];
  readonly #inner: Allocator;
  readonly #options: FaultOptions;
  readonly #random: () => number;
  #space: number;
  #failing = false;
  // No trigger and no recording: every allocation passes straight through (the "off" fast path).
  readonly #idle: boolean;

  /**
   * @param inner The allocator to wrap.
   * @param options The knobs; with none set, nothing fails.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a number out of range (seed: whole, 0..2^32-1; probability: 0..1).
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for an unknown option, a bad mode or non-array filters.
   */
  constructor(inner: Allocator, options: FaultOptions = {}) {
    this.#options = checkFaultOptions(options);
    this.#inner = checkAllocator(inner, "FaultInjector");
    this.heap = inner.heap;
    this.seed = options.seed ?? freshSeed();
    this.#random = seededU32(this.seed);
    this.#space = options.space ?? 0;
    const o = this.#options;
    this.#idle =
      o.nth === undefined && o.interval === undefined && o.probability === undefined && o.recordAllSites !== true;
  }

  /**
   * Wraps `inner` per the `MEMKIT_FAULTS` environment variable, or returns `inner` itself when it
   * is unset: with injection off there is no layer and no cost at all.
   *
   * @param inner The allocator.
   * @param env Where to read the variable. @defaultValue process.env
   * @returns An injector, or `inner` unchanged.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT naming the bad key or value.
   * @example
   * ```ts
   * // MEMKIT_FAULTS="p=10%,seed=42,times=3" npm test
   * const alloc = FaultInjector.fromEnv(new HeapAllocator(heap));
   * ```
   */
  static fromEnv(inner: Allocator, env: Record<string, string | undefined> = processEnv()): Allocator {
    const spec = env.MEMKIT_FAULTS;
    return spec === undefined || spec.trim() === "" ? inner : new FaultInjector(inner, parseFaultSpec(spec));
  }

  // As the kernel documents its knobs: `times` first, then the filters (size, stack) and the
  // space budget, then the counters over what passed ("interval ... for calls that pass all the
  // other tests"), then chance. Filters run before chance so a seed replays the same draws.
  #shouldFail(bytes: number, stack: () => string): boolean {
    const o = this.#options;
    if (o.times !== undefined && this.failures >= o.times) return false;
    if (this.#failing) return true;
    if (o.nth === undefined && o.interval === undefined && o.probability === undefined) return false;
    if (o.minSize !== undefined && bytes < o.minSize) return false;
    if (o.include !== undefined && !matches(stack(), o.include)) return false;
    if (o.exclude !== undefined && matches(stack(), o.exclude)) return false;
    // Suppressed until the budget reaches zero, as the kernel documents `space`.
    if (this.#space >= bytes && this.#space > 0) {
      this.#space -= bytes;
      return false;
    }
    const n = ++this.eligible;
    if (o.nth !== undefined && n !== o.nth) return false;
    if (o.interval !== undefined && n % o.interval !== 0) return false;
    if (o.probability !== undefined && this.#random() >= o.probability) return false;
    return true;
  }

  #decide(bytes: number): boolean {
    this.count++;
    return this.#idle ? false : this.#decideActive(bytes);
  }

  #decideActive(bytes: number): boolean {
    let captured: string | undefined;
    const stack = () => {
      captured ??= userStack();
      return captured;
    };
    const fail = this.#shouldFail(bytes, stack);
    const inBenign = isBenign();
    if (fail) {
      this.failures++;
      if (inBenign) this.benignFailures++;
      if (this.#options.mode === "persistent") this.#failing = true;
      this.lastError = new AllocError("injected", bytes, 0, `allocation #${this.count}`);
      if (this.#options.verbose) this.#log(bytes, stack);
    }
    if (fail || this.#options.recordAllSites)
      this.records.push({ n: this.count, bytes, injected: fail, benign: inBenign, stack: stack() });
    return fail;
  }

  #log(bytes: number, stack: () => string): void {
    const line = `memkit FaultInjector: injected failure of allocation #${this.count} (${bytes} bytes, seed ${this.seed})`;
    console.error(this.#options.verbose === 2 ? `${line}\n  ${stack().split("\n").join("\n  ")}` : line);
  }

  /**
   * Eligible allocations left before the `nth` failure (SQLite's `sqlite3_memdebug_pending`):
   * 0 when the next eligible one fails, -1 when no `nth` failure is still ahead.
   */
  get pending(): number {
    const nth = this.#options.nth;
    if (nth === undefined || this.eligible >= nth) return -1;
    return nth - this.eligible - 1;
  }

  /** A block of `bytes`, or 0 with the reason in `lastError`. @param bytes Size. @param align Alignment. @returns The pointer or 0. */
  tryMalloc(bytes: number, align?: number): number {
    if (this.#decide(bytes)) return 0;
    const ptr = this.#inner.tryMalloc(bytes, align);
    if (ptr === 0) this.lastError = this.#inner.lastError;
    return ptr;
  }

  /** The block resized, or 0 with the old block untouched. @param ptr The block. @param bytes New size. @returns The pointer or 0. */
  tryRealloc(ptr: number, bytes: number): number {
    if (this.#decide(bytes)) return 0;
    const moved = this.#inner.tryRealloc(ptr, bytes);
    if (moved === 0) this.lastError = this.#inner.lastError;
    return moved;
  }

  /** Frees a block. @param ptr The block. */
  free(ptr: number): void {
    this.#inner.free(ptr);
  }

  /** The usable size of a live block. @param ptr The block. @returns Bytes. */
  usableSize(ptr: number): number {
    return this.#inner.usableSize(ptr);
  }

  /**
   * Every injection with the stack where it happened, ready to print.
   * @returns A multi-line report.
   * @example
   * ```ts
   * console.error(injector.report());
   * ```
   */
  report(): string {
    const injected = this.records.filter((r) => r.injected);
    const lines = [
      `${injected.length} injected allocation failure(s) out of ${this.count} allocation(s); seed ${this.seed} (replay with { seed: ${this.seed} } or MEMKIT_FAULTS="...,seed=${this.seed}")`,
    ];
    for (const r of injected)
      lines.push(
        `#${r.n} (${r.bytes} bytes${r.benign ? ", benign" : ""})\n  ${r.stack.split("\n").slice(0, 6).join("\n  ")}`,
      );
    return lines.join("\n");
  }
}

function processEnv(): Record<string, string | undefined> {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
}
