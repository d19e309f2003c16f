import type { NumericArrayType } from "../heap/index.js";
import { InvalidArgumentError } from "../internal/errors.js";
import { TYPED_ARRAYS } from "../internal/typed-arrays.js";
import type { Allocator } from "./allocator.js";

/** A typed array constructor a fallible collection can store its elements as. */
export type NumericType = NumericArrayType;

/** The element type of a `NumericType`: bigint for the 64-bit integer arrays, else number. */
export type ElementOf<C extends NumericType> = C extends BigInt64ArrayConstructor | BigUint64ArrayConstructor
  ? bigint
  : number;

/** A typed array of `C` over some memory. */
export type ArrayOf<C extends NumericType> = InstanceType<C>;

/** Largest byte size a collection block may reach (heap offsets are 31-bit). */
export const MAX_BLOCK_BYTES = 0x7fff_0000;

const NUMERIC_TYPES: readonly unknown[] = TYPED_ARRAYS;

/** @internal Checks a collection's element type: one of the typed array constructors. */
export function checkNumericType<C>(type: C, what: string): C {
  if (!NUMERIC_TYPES.includes(type)) {
    const shown = typeof type === "function" ? (type as { name: string }).name : String(type);
    throw new InvalidArgumentError(
      `${what} needs a typed array constructor (Int8Array ... Float64Array, BigInt64Array, BigUint64Array), got ${shown}`,
    );
  }
  return type;
}

/** @internal Checks that `value` looks like an `Allocator` layer (a heap wrapper, budget or injector). */
export function checkAllocator(value: unknown, what: string): Allocator {
  const a = value as Partial<Allocator> | null;
  if (
    typeof a !== "object" ||
    a === null ||
    typeof a.tryMalloc !== "function" ||
    typeof a.tryRealloc !== "function" ||
    typeof a.free !== "function" ||
    typeof a.usableSize !== "function"
  ) {
    throw new InvalidArgumentError(
      `${what} needs an Allocator (a HeapAllocator, Budget or FaultInjector), got ${value === null ? "null" : typeof value}`,
    );
  }
  return a as Allocator;
}
