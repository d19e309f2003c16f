/**
 * memkit/once.
 *
 * @module
 */
export {};
