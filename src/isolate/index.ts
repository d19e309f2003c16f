/**
 * memkit/isolate.
 *
 * @module
 */
export {};
