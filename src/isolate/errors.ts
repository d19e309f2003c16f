import { AbortedError, MemkitError, MemkitTypeError, registerErrorClasses, TimeoutError } from "../internal/errors.js";

/**
 * Whether the isolated function ran, so a caller knows whether retrying is safe:
 * `"not-run"` (it never started: retry freely), `"ran"` (it finished or threw), `"may-have-run"`
 * (it started and was stopped or died: side effects may have happened).
 */
export type Execution = "not-run" | "ran" | "may-have-run";

/**
 * The isolated child ran out of memory, as the child's runtime or the OS reported it (never
 * guessed from the text of an error the function threw): V8's fatal out-of-heap exit
 * (`kind: "heap"`; in worker mode the worker's `ERR_WORKER_OUT_OF_MEMORY`), the resident-memory
 * limit watched by the parent (`"rss"`), or the kernel's OOM killer (`"system"`: a SIGKILL the
 * parent did not send while the cgroup's `oom_kill` count rose).
 *
 * A `RangeError` the function threw itself (`new Array(-1)`, `new ArrayBuffer(2 ** 42)`) is not
 * this error: it comes back as itself, like any other throw.
 *
 * @example
 * ```ts
 * await isolate(() => { const keep = []; for (;;) keep.push(new Array(1e5).fill(1)); }, { memoryLimitMb: 64 })
 *   .catch((e) => e instanceof IsolateOutOfMemoryError); // true, kind "heap"
 * ```
 */
export class IsolateOutOfMemoryError extends MemkitError {
  /** "may-have-run", or "not-run" when the child ran out of memory before the function started. */
  readonly execution: Execution;
  /** Which limit was hit. */
  readonly kind: "heap" | "rss" | "system";
  /** The limit in MiB, when one was set. */
  readonly limitMb: number | undefined;
  /** Highest resident memory the parent saw, in MiB (0 when not watched). */
  readonly peakRssMb: number;
  /** Last lines of the child's stderr. */
  readonly stderr: string;
  /** @internal */
  constructor(
    kind: "heap" | "rss" | "system",
    limitMb: number | undefined,
    peakRssMb: number,
    stderr: string,
    execution: Execution = "may-have-run",
  ) {
    const limit = limitMb === undefined ? "" : ` (limit ${limitMb} MiB)`;
    const what =
      kind === "heap"
        ? "its JavaScript heap"
        : kind === "rss"
          ? "resident memory"
          : "the system's memory (killed by the kernel's OOM killer)";
    super(
      "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY",
      `The isolated function ran out of memory: ${what}${limit}; peak resident ${peakRssMb.toFixed(0)} MiB. The caller is unaffected.`,
    );
    this.execution = execution;
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
  /** "may-have-run", or "not-run" when the child died after it was ready but before the function started. */
  readonly execution: Execution;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Last lines of the child's stderr. */
  readonly stderr: string;
  /** @internal */
  constructor(exitCode: number | null, signal: string | null, stderr: string, execution: Execution = "may-have-run") {
    const how = signal === null ? `exit code ${exitCode}` : `signal ${signal}`;
    const when = execution === "not-run" ? " before the function started (safe to retry)" : "";
    super(
      "ERR_MEMKIT_ISOLATE_CRASHED",
      `The isolated function's child crashed with ${how}${when}; the caller is unaffected.${stderr ? ` Last stderr:\n${stderr}` : ""}`,
    );
    this.execution = execution;
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
  /** "may-have-run", or "not-run" when the time ran out before the function started (a slow module load). */
  readonly execution: Execution;
  /** @internal */
  constructor(timeoutMs: number, execution: Execution = "may-have-run") {
    super(`The isolated call ran past ${timeoutMs} ms and was stopped`, timeoutMs);
    this.execution = execution;
  }
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
  /** What the value is, e.g. "a function (handler)" or "a Generator object that cannot be cloned". */
  readonly detail: string;
  /** @internal */
  constructor(which: "arguments" | "result", path: string, detail: string) {
    super(
      "ERR_MEMKIT_NOT_SERIALIZABLE",
      `The isolated function's ${which} cannot be sent across the boundary: ${path} is ${detail}. Send plain data (structured-clone types) instead.`,
    );
    this.execution = which === "arguments" ? "not-run" : "ran";
    this.path = path;
    this.detail = detail;
  }
}

/**
 * The function cannot travel as source text (native, bound, a class, not a function, or it uses
 * variables of the caller's scope: `freeVariables` names them). Detected before any child starts.
 *
 * @example
 * ```ts
 * await isolate(Math.max).catch((e) => e instanceof IsolateInvalidFunctionError);
 * ```
 */
export class IsolateInvalidFunctionError extends MemkitTypeError {
  readonly execution: Execution = "not-run";
  /** Names the function uses that do not exist in a fresh child (empty for other reasons). */
  readonly freeVariables: readonly string[];
  /** @internal */
  constructor(reason: string, freeVariables: readonly string[] = []) {
    super(
      "ERR_MEMKIT_ISOLATE_INVALID_FUNCTION",
      `Cannot isolate this function: ${reason}. The function travels as source text, so it must be self-contained (use await import() inside it), or use the module form { module, export }.`,
    );
    this.freeVariables = freeVariables;
  }
}

/** Where starting an isolated child failed. */
export type StartPhase = "spawn" | "boot";

/**
 * The isolated child could not be started, so the function never ran (`execution: "not-run"`:
 * safe to retry once the cause is fixed). `phase` says where it failed: `"spawn"` (the OS or
 * the runtime refused to start it: no such binary, too many processes, a bad `execArgv` flag) or
 * `"boot"` (it started but died before it was ready: a `--require`/`--import` preload threw, it
 * was killed while starting).
 *
 * @example
 * ```ts
 * await isolate(() => 1, { execArgv: ["--no-such-flag"] }).catch((e) => e.phase); // "spawn"
 * ```
 */
export class IsolateStartError extends MemkitError {
  readonly execution: Execution = "not-run";
  readonly phase: StartPhase;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Last lines of the child's stderr. */
  readonly stderr: string;
  /** @internal */
  constructor(phase: StartPhase, exitCode: number | null, signal: string | null, stderr: string, cause?: unknown) {
    const how = cause instanceof Error ? cause.message : signal !== null ? `signal ${signal}` : `exit code ${exitCode}`;
    super(
      "ERR_MEMKIT_ISOLATE_START_FAILED",
      `The isolated child could not be started (${phase} failed: ${how}); the function did not run. Check execArgv, env and NODE_OPTIONS.${stderr ? ` Last stderr:\n${stderr}` : ""}`,
      { cause },
    );
    this.phase = phase;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderr = stderr;
  }
}

/**
 * The task could not be loaded in the child, so the function never ran (`execution:
 * "not-run"`, `phase: "load"`): the module form's file is missing, has a syntax error, threw
 * while it was imported, or lacks the export; or a function's source text does not compile.
 * `cause` is the error the child saw, revived as itself.
 *
 * @example
 * ```ts
 * await isolate({ module: "./missing.mjs" }).catch((e) => e instanceof IsolateLoadError); // true
 * ```
 */
export class IsolateLoadError extends MemkitError {
  readonly execution: Execution = "not-run";
  readonly phase = "load" as const;
  /** The module URL (or "source" for a function). */
  readonly module: string;
  /** @internal */
  constructor(module: string, cause: unknown) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      "ERR_MEMKIT_ISOLATE_LOAD_FAILED",
      `The isolated task could not be loaded from ${module} (${why}); the function did not run.`,
      { cause },
    );
    this.module = module;
  }
}

registerErrorClasses({
  IsolateOutOfMemoryError,
  IsolateCrashedError,
  IsolateExitedError,
  IsolateTimeoutError,
  IsolateAbortedError,
  IsolateSerializationError,
  IsolateInvalidFunctionError,
  IsolateStartError,
  IsolateLoadError,
});
