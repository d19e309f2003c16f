import { seeded } from "../internal/random.js";
import { checkSize } from "../internal/validate.js";
import type { Allocator } from "./allocator.js";
import { AllocError } from "./errors.js";
import { type FaultOptions, parseFaultSpec } from "./fault-options.js";

export type { FaultOptions };

/** One allocation the injector saw (all of them with `recordAllSites`, else only injections). */
export interface AllocationRecord {
  /** 1-based number of the allocation. */
  readonly n: number;
  readonly bytes: number;
  readonly injected: boolean;
  /** The stack at the allocation. */
  readonly stack: string;
}

function stackHere(): string {
  return (new Error("allocation").stack ?? "")
    .split("\n")
    .slice(1)
    .filter((line) => !/[\\/]fallible[\\/](fault-injector|allocator|budget|vec|int-map|sweep)\.(js|ts)/.test(line))
    .map((line) => line.trim())
    .join("\n");
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
  /** Injected failures (and, with `recordAllSites`, every allocation). */
  readonly records: AllocationRecord[] = [];
  readonly #inner: Allocator;
  readonly #options: FaultOptions;
  readonly #random: () => number;
  #allocatedBytes = 0;
  #failing = false;

  /**
   * @param inner The allocator to wrap.
   * @param options The knobs; with none set, nothing fails.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad knob value.
   */
  constructor(inner: Allocator, options: FaultOptions = {}) {
    this.#inner = inner;
    this.heap = inner.heap;
    if (options.probability !== undefined && !(options.probability >= 0 && options.probability <= 1)) {
      checkSize(-1, "probability (0..1)", 0, 1);
    }
    for (const key of ["nth", "interval", "times", "space", "minSize"] as const) {
      const value = options[key];
      if (value !== undefined) checkSize(value, key, 0, 2 ** 53);
    }
    this.#options = options;
    this.#random = seeded(options.seed ?? 1);
  }

  /**
   * Wraps `inner` per the `MEMKIT_FAULTS` environment variable, or returns `inner` itself when it
   * is unset: with injection off there is no layer and no cost at all.
   *
   * @param inner The allocator.
   * @param env Where to read the variable. @defaultValue process.env
   * @returns An injector, or `inner` unchanged.
   * @example
   * ```ts
   * // MEMKIT_FAULTS="p=10%,seed=42,times=3" npm test
   * const alloc = FaultInjector.fromEnv(new HeapAllocator(heap));
   * ```
   */
  static fromEnv(inner: Allocator, env: Record<string, string | undefined> = process.env): Allocator {
    const spec = env.MEMKIT_FAULTS;
    return spec === undefined || spec.trim() === "" ? inner : new FaultInjector(inner, parseFaultSpec(spec));
  }

  #shouldFail(bytes: number, stack: () => string): boolean {
    const o = this.#options;
    const n = this.count;
    if (this.#failing) return true;
    if (o.times !== undefined && this.failures >= o.times) return false;
    if (o.nth === undefined && o.interval === undefined && o.probability === undefined) return false;
    if (o.minSize !== undefined && bytes < o.minSize) return false;
    if (o.space !== undefined && this.#allocatedBytes + bytes <= o.space) return false;
    if (o.nth !== undefined && n !== o.nth) return false;
    if (o.interval !== undefined && (o.interval === 0 || n % o.interval !== 0)) return false;
    if (o.probability !== undefined && this.#random() >= o.probability) return false;
    if (o.include !== undefined && !matches(stack(), o.include)) return false;
    if (o.exclude !== undefined && matches(stack(), o.exclude)) return false;
    return true;
  }

  #decide(bytes: number): boolean {
    this.count++;
    let captured: string | undefined;
    const stack = () => {
      captured ??= stackHere();
      return captured;
    };
    const fail = this.#shouldFail(bytes, stack);
    if (fail) {
      this.failures++;
      if (this.#options.mode === "persistent") this.#failing = true;
      this.lastError = new AllocError("injected", bytes, 0, `allocation #${this.count}`);
    }
    if (fail || this.#options.recordAllSites)
      this.records.push({ n: this.count, bytes, injected: fail, stack: stack() });
    return fail;
  }

  /** A block of `bytes`, or 0 with the reason in `lastError`. @param bytes Size. @param align Alignment. @returns The pointer or 0. */
  tryMalloc(bytes: number, align?: number): number {
    if (this.#decide(bytes)) return 0;
    const ptr = this.#inner.tryMalloc(bytes, align);
    if (ptr === 0) this.lastError = this.#inner.lastError;
    else this.#allocatedBytes += bytes;
    return ptr;
  }

  /** The block resized, or 0 with the old block untouched. @param ptr The block. @param bytes New size. @returns The pointer or 0. */
  tryRealloc(ptr: number, bytes: number): number {
    if (this.#decide(bytes)) return 0;
    const moved = this.#inner.tryRealloc(ptr, bytes);
    if (moved === 0) this.lastError = this.#inner.lastError;
    else this.#allocatedBytes += bytes;
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
    const lines = [`${injected.length} injected allocation failure(s) out of ${this.count} allocation(s)`];
    for (const r of injected)
      lines.push(`#${r.n} (${r.bytes} bytes)\n  ${r.stack.split("\n").slice(0, 6).join("\n  ")}`);
    return lines.join("\n");
  }
}
