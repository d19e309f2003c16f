import { AbortedError, MemkitError, MemkitTypeError, registerErrorClass, TimeoutError } from "../internal/errors.js";

/**
 * Whether the isolated function ran, so a caller knows whether retrying is safe:
 * `"not-run"` (it never started: retry freely), `"ran"` (it finished or threw), `"may-have-run"`
 * (it started and was stopped or died: side effects may have happened).
 */
export type Execution = "not-run" | "ran" | "may-have-run";

/**
 * The isolated child ran out of memory: the V8 heap limit (`kind: "heap"`), the resident-memory
 * limit watched by the parent (`"rss"`), or one allocation too large to make (`"allocation"`).
 *
 * @example
 * ```ts
 * await isolate(() => new Array(1e9).fill(0), { memoryLimitMb: 64 }).catch((e) => e instanceof IsolateOutOfMemoryError);
 * ```
 */
export class IsolateOutOfMemoryError extends MemkitError {
  readonly execution: Execution = "may-have-run";
  /** Which limit was hit. */
  readonly kind: "heap" | "rss" | "allocation";
  /** The limit in MiB, when one was set. */
  readonly limitMb: number | undefined;
  /** Highest resident memory the parent saw, in MiB (0 when not watched). */
  readonly peakRssMb: number;
  /** Last lines of the child's stderr. */
  readonly stderr: string;
  /** @internal */
  constructor(
    kind: "heap" | "rss" | "allocation",
    limitMb: number | undefined,
    peakRssMb: number,
    stderr: string,
    cause?: unknown,
  ) {
    const limit = limitMb === undefined ? "" : ` (limit ${limitMb} MiB)`;
    const what = kind === "heap" ? "its JavaScript heap" : kind === "rss" ? "resident memory" : "one allocation";
    super(
      "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY",
      `The isolated function ran out of memory: ${what}${limit}; peak resident ${peakRssMb.toFixed(0)} MiB. The caller is unaffected.`,
      { cause },
    );
    this.kind = kind;
    this.limitMb = limitMb;
    this.peakRssMb = peakRssMb;
    this.stderr = stderr;
  }
}

/**
 * The isolated child died abnormally: a signal (SIGSEGV, SIGABRT, SIGKILL from outside) or an
 * exit the runner did not expect.
 *
 * @example
 * ```ts
 * await isolate(() => process.abort()).catch((e) => e instanceof IsolateCrashedError && e.signal); // "SIGABRT"
 * ```
 */
export class IsolateCrashedError extends MemkitError {
  readonly execution: Execution = "may-have-run";
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Last lines of the child's stderr. */
  readonly stderr: string;
  /** @internal */
  constructor(exitCode: number | null, signal: string | null, stderr: string) {
    const how = signal === null ? `exit code ${exitCode}` : `signal ${signal}`;
    super(
      "ERR_MEMKIT_ISOLATE_CRASHED",
      `The isolated function's ${"child"} crashed with ${how}; the caller is unaffected.${stderr ? ` Last stderr:\n${stderr}` : ""}`,
    );
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderr = stderr;
  }
}

/**
 * The isolated function called `process.exit()` (or the child otherwise exited) before returning.
 *
 * @example
 * ```ts
 * await isolate(() => process.exit(3)).catch((e) => e.exitCode); // 3
 * ```
 */
export class IsolateExitedError extends MemkitError {
  readonly execution: Execution = "ran";
  readonly exitCode: number;
  /** @internal */
  constructor(exitCode: number) {
    super("ERR_MEMKIT_ISOLATE_EXITED", `The isolated function exited with code ${exitCode} before returning a result`);
    this.exitCode = exitCode;
  }
}

/**
 * The isolated function ran past `timeoutMs` and its child was killed.
 *
 * @example
 * ```ts
 * await isolate(() => { for (;;); }, { timeoutMs: 100 }).catch((e) => e instanceof IsolateTimeoutError);
 * ```
 */
export class IsolateTimeoutError extends TimeoutError {
  readonly execution: Execution = "may-have-run";
}

/**
 * The call's `AbortSignal` fired; `execution` says whether the function had started.
 *
 * @example
 * ```ts
 * await isolate(task, { signal: AbortSignal.timeout(50) }).catch((e) => e instanceof IsolateAbortedError);
 * ```
 */
export class IsolateAbortedError extends AbortedError {
  readonly execution: Execution;
  /** @internal */
  constructor(execution: Execution, reason: unknown) {
    super(`The isolated call was aborted ${execution === "not-run" ? "before it started" : "while it ran"}`, {
      cause: reason,
    });
    this.execution = execution;
  }
}

/**
 * The arguments (`execution: "not-run"`) or the result (`"ran"`) cannot cross the process or
 * thread boundary (structured clone); `path` names the offending value, e.g. `args[1].callback`.
 *
 * @example
 * ```ts
 * await isolate((f) => f, { args: [() => 1] }).catch((e) => e.path); // "args[0]"
 * ```
 */
export class IsolateSerializationError extends MemkitError {
  readonly execution: Execution;
  /** Where the unserializable value is. */
  readonly path: string;
  /** @internal */
  constructor(which: "arguments" | "result", path: string, detail: string) {
    super(
      "ERR_MEMKIT_NOT_SERIALIZABLE",
      `The isolated function's ${which} cannot be sent across the boundary: ${path} is ${detail}. Send plain data (structured-clone types) instead.`,
    );
    this.execution = which === "arguments" ? "not-run" : "ran";
    this.path = path;
  }
}

/**
 * The function cannot travel as source text (native, bound, a class, or not a function).
 *
 * @example
 * ```ts
 * await isolate(Math.max).catch((e) => e instanceof IsolateInvalidFunctionError);
 * ```
 */
export class IsolateInvalidFunctionError extends MemkitTypeError {
  readonly execution: Execution = "not-run";
  /** @internal */
  constructor(reason: string) {
    super(
      "ERR_MEMKIT_ISOLATE_INVALID_FUNCTION",
      `Cannot isolate this function: ${reason}. The function travels as source text, so it must be self-contained (use await import() inside it), or use the module form { module, export }.`,
    );
  }
}

for (const ctor of [
  IsolateOutOfMemoryError,
  IsolateCrashedError,
  IsolateExitedError,
  IsolateTimeoutError,
  IsolateAbortedError,
  IsolateSerializationError,
  IsolateInvalidFunctionError,
]) {
  registerErrorClass(ctor);
}
