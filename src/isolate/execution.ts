import type { Execution } from "./errors.js";

// Errors the isolated function threw come back as the caller's own error objects; whether the
// function ran is recorded beside them rather than written onto them.
const executions = new WeakMap<object, Execution>();

/** @internal */
export function markExecution(error: unknown, execution: Execution): void {
  if (typeof error === "object" && error !== null) executions.set(error, execution);
}

/**
 * Whether the isolated function ran, for any error an `isolate` call rejected with: `"not-run"`
 * (safe to retry), `"ran"` or `"may-have-run"`. Undefined for errors that did not come from
 * `isolate`.
 *
 * @param error What the call rejected with.
 * @returns The execution state, if known.
 * @example
 * ```ts
 * try { await isolate(task); } catch (e) { if (executionOf(e) === "not-run") retry(); }
 * ```
 */
export function executionOf(error: unknown): Execution | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const own = (error as { execution?: unknown }).execution;
  if (own === "not-run" || own === "ran" || own === "may-have-run") return own;
  return executions.get(error);
}
