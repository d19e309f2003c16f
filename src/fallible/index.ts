/**
 * memkit/fallible.
 *
 * @module
 */
export {};
