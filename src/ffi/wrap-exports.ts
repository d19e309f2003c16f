import type { Boundary } from "./boundary.js";

type Fn = (...args: unknown[]) => unknown;

/**
 * Wraps one exported function: C runs with memkit's rules deferred, and when control returns to
 * JavaScript (the outermost call ends) what C caused is settled: a foreign allocator found, the
 * first recorded double/invalid free thrown. An exception that unwinds C puts C's stack back.
 */
function wrap(b: Boundary, fn: Fn): Fn {
  return (...args) => {
    if (b.depth === 0 && b.broken !== undefined) throw b.broken;
    b.depth++;
    let result: unknown;
    try {
      result = fn(...args);
    } catch (error) {
      if (--b.depth === 0) throw b.unwound(error);
      throw error;
    }
    // The usual case costs four loads and compares: nothing recorded, canary intact, memory not moved.
    if (--b.depth === 0) {
      if (b.pending !== undefined || b.checkOnReturn || b.known.byteLength === 0 || !b.canaryIntact()) b.settle();
    }
    return result;
  };
}

/**
 * The module's exports with every function wrapped (see `wrap`); memories, globals and tables as
 * they are.
 */
export function wrapExports(b: Boundary, exports: Record<string, unknown>): Record<string, unknown> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(exports))
    wrapped[name] = typeof value === "function" ? wrap(b, value as Fn) : value;
  return Object.freeze(wrapped);
}
