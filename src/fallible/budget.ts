import { InvalidArgumentError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";
import type { Allocator } from "./allocator.js";
import { AllocError } from "./errors.js";
import { checkAllocator } from "./numeric.js";

const BUDGET_KEYS: readonly string[] = ["hardBytes", "softBytes", "onSoftLimit"];

function checkBudgetOptions(options: unknown): void {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(`Budget options must be an object, got ${String(options)}`);
  for (const key of Object.keys(options))
    if (!BUDGET_KEYS.includes(key))
      throw new InvalidArgumentError(`Unknown Budget option ${JSON.stringify(key)} (known: ${BUDGET_KEYS.join(", ")})`);
  const onSoft = (options as BudgetOptions).onSoftLimit;
  if (onSoft !== undefined && typeof onSoft !== "function")
    throw new InvalidArgumentError(`Budget onSoftLimit must be a function, got ${typeof onSoft}`);
}

/** Limits of a `Budget`. */
export interface BudgetOptions {
  /** Allocations that would take usage past this fail with `kind: "budget"`. @defaultValue Infinity */
  readonly hardBytes?: number;
  /** Crossing this calls `onSoftLimit` once (like SQLite's soft heap limit). @defaultValue Infinity */
  readonly softBytes?: number;
  /** Called once, the first time usage passes `softBytes`. */
  readonly onSoftLimit?: (usedBytes: number, softBytes: number) => void;
}

/**
 * A memory budget over any allocator (a heap or another budget): a hard limit that fails
 * allocations as values and a soft limit that warns once. Budgets nest: a per-request budget
 * inside a global one fails at whichever limit is reached first. Usage is counted in usable bytes
 * (requests rounded up by the heap).
 *
 * @example
 * ```ts
 * const global = new Budget(new HeapAllocator(heap), { hardBytes: 64 << 20 });
 * const request = new Budget(global, { hardBytes: 1 << 20, softBytes: 768 << 10, onSoftLimit: warn });
 * if (request.tryMalloc(4096) === 0) console.log(request.lastError?.kind); // "budget"
 * ```
 */
export class Budget implements Allocator {
  readonly heap: Allocator["heap"];
  lastError: AllocError | undefined = undefined;
  #used = 0;
  #softFired = false;
  readonly #inner: Allocator;
  readonly #hard: number;
  readonly #soft: number;
  readonly #onSoft: ((used: number, soft: number) => void) | undefined;

  /**
   * @param inner The allocator this budget draws from.
   * @param options Hard and soft limits.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a negative or fractional limit.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for an unknown option, a non-function `onSoftLimit` or a non-allocator.
   */
  constructor(inner: Allocator, options: BudgetOptions = {}) {
    checkBudgetOptions(options);
    this.#inner = checkAllocator(inner, "Budget");
    this.heap = inner.heap;
    this.#hard =
      options.hardBytes === undefined
        ? Number.POSITIVE_INFINITY
        : checkSize(options.hardBytes, "hardBytes", 0, 2 ** 53);
    this.#soft =
      options.softBytes === undefined
        ? Number.POSITIVE_INFINITY
        : checkSize(options.softBytes, "softBytes", 0, 2 ** 53);
    this.#onSoft = options.onSoftLimit;
  }

  /** Usable bytes currently allocated through this budget. */
  get usedBytes(): number {
    return this.#used;
  }

  /** Bytes left under the hard limit. */
  get remainingBytes(): number {
    return this.#hard - this.#used;
  }

  #account(delta: number): void {
    this.#used += delta;
    if (!this.#softFired && this.#used > this.#soft) {
      this.#softFired = true;
      this.#onSoft?.(this.#used, this.#soft);
    }
  }

  #refuse(bytes: number): 0 {
    this.lastError = new AllocError("budget", bytes, Math.max(0, this.#hard - this.#used));
    return 0;
  }

  /** A block of `bytes`, or 0 with the reason in `lastError`. @param bytes Size. @param align Alignment. @returns The pointer or 0. */
  tryMalloc(bytes: number, align?: number): number {
    if (this.#used + bytes > this.#hard) return this.#refuse(bytes);
    const ptr = this.#inner.tryMalloc(bytes, align);
    if (ptr === 0) {
      this.lastError = this.#inner.lastError;
      return 0;
    }
    const size = this.#inner.usableSize(ptr);
    // Rounding may carry a request that fit over the limit: give it back rather than overspend.
    if (this.#used + size > this.#hard) {
      this.#inner.free(ptr);
      return this.#refuse(bytes);
    }
    this.#account(size);
    return ptr;
  }

  /** The block resized, or 0 with the old block untouched. @param ptr The block. @param bytes New size. @returns The pointer or 0. */
  tryRealloc(ptr: number, bytes: number): number {
    const old = this.#inner.usableSize(ptr);
    if (this.#used - old + bytes > this.#hard) return this.#refuse(bytes);
    const moved = this.#inner.tryRealloc(ptr, bytes);
    if (moved === 0) {
      this.lastError = this.#inner.lastError;
      return 0;
    }
    this.#account(this.#inner.usableSize(moved) - old);
    return moved;
  }

  /** Frees a block. @param ptr The block. */
  free(ptr: number): void {
    const size = this.#inner.usableSize(ptr);
    this.#inner.free(ptr);
    this.#used -= size;
  }

  /** The usable size of a live block. @param ptr The block. @returns Bytes. */
  usableSize(ptr: number): number {
    return this.#inner.usableSize(ptr);
  }
}
