/** A numeric typed-array constructor. */
export type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/**
 * Every numeric typed-array constructor, in one fixed order. Append only: the portable codec of
 * `memkit/once` writes an index into this list into shared memory.
 */
export const TYPED_ARRAYS: readonly TypedArrayConstructor[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

/** The typed-array constructor called `name` (`"Float64Array"`), if there is one. */
export function typedArrayNamed(name: string): TypedArrayConstructor | undefined {
  return TYPED_ARRAYS.find((ctor) => ctor.name === name);
}
