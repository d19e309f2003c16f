/**
 * memkit/heap.
 *
 * @module
 */
export {};
