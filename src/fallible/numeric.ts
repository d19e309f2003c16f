import type { NumericArrayType } from "../heap/index.js";

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
