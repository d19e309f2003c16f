/**
 * memkit/ffi.
 *
 * @module
 */
export {};
