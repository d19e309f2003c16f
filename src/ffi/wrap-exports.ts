import type { Boundary } from "./boundary.js";

type Fn = (...args: unknown[]) => unknown;

/** Refuses a broken instance; counts the nesting (C may call JavaScript, which may call C again). */
function enter(b: Boundary, name: string): void {
  if (b.depth === 0) {
    if (b.broken !== undefined) throw b.broken;
    b.entry = name;
  }
  b.depth++;
}

/**
 * The call returned. When it was the outermost one, what C caused is settled: the usual case
 * costs a few loads and compares (nothing recorded, canary intact, memory not moved).
 */
function leave(b: Boundary, result: unknown): unknown {
  if (--b.depth === 0 && (b.pending !== undefined || b.checkOnReturn || b.known.byteLength === 0 || !b.canaryIntact()))
    b.settle();
  return result;
}

/** An exception left the call: when it was the outermost one, C's stack is put back. */
function fail(b: Boundary, error: unknown): unknown {
  return --b.depth === 0 ? b.unwound(error) : error;
}

/**
 * Wraps one exported function: C runs with memkit's rules deferred, and when control returns to
 * JavaScript what C caused is thrown (a foreign allocator found, the first recorded bad free).
 * One wrapper per arity up to 3: a rest parameter and a spread cost more than the checks.
 */
function wrap(b: Boundary, fn: Fn, name: string): Fn {
  switch (fn.length) {
    case 0:
      return () => {
        enter(b, name);
        let result: unknown;
        try {
          result = fn();
        } catch (error) {
          throw fail(b, error);
        }
        return leave(b, result);
      };
    case 1:
      return (x) => {
        enter(b, name);
        let result: unknown;
        try {
          result = fn(x);
        } catch (error) {
          throw fail(b, error);
        }
        return leave(b, result);
      };
    case 2:
      return (x, y) => {
        enter(b, name);
        let result: unknown;
        try {
          result = fn(x, y);
        } catch (error) {
          throw fail(b, error);
        }
        return leave(b, result);
      };
    case 3:
      return (x, y, z) => {
        enter(b, name);
        let result: unknown;
        try {
          result = fn(x, y, z);
        } catch (error) {
          throw fail(b, error);
        }
        return leave(b, result);
      };
    default:
      return (...args) => {
        enter(b, name);
        let result: unknown;
        try {
          result = fn(...args);
        } catch (error) {
          throw fail(b, error);
        }
        return leave(b, result);
      };
  }
}

/**
 * The module's exports with every function wrapped (see `wrap`); memories, globals and tables as
 * they are.
 */
export function wrapExports(b: Boundary, exports: Record<string, unknown>): Record<string, unknown> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(exports))
    wrapped[name] = typeof value === "function" ? wrap(b, value as Fn, name) : value;
  return Object.freeze(wrapped);
}
