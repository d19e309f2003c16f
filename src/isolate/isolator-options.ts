/**
 * Where isolated code runs: a fresh Node process (default), a fresh worker thread, or (Linux) a
 * fresh copy-on-write fork of a template process that memkit keeps started (`"fork"`).
 */
export type IsolateMode = "process" | "worker" | "fork";

/** When a child may serve another call instead of being discarded. */
export interface ReusePolicy {
  /**
   * Recycle after this many calls. The replacement is started before the old child retires, and
   * the old child keeps serving until the replacement is ready, so recycling never makes a call
   * wait for a cold start. A start costs as much CPU as thousands of trivial calls (a process
   * ~100 ms, a worker ~30 ms on 2 cores), so recycle by count only as often as you need to;
   * `maxHeapGrowthMb` / `maxRssGrowthMb` recycle a child that actually grew. @defaultValue 10000
   */
  readonly maxCalls?: number;
  /** Recycle when resident memory grew by more than this since the child started (process mode). */
  readonly maxRssGrowthMb?: number;
  /** Recycle when the V8 heap in use grew by more than this since the first call. */
  readonly maxHeapGrowthMb?: number;
}

/** Options of an `Isolator` (fixed for its children, which are started ahead of time). */
export interface IsolatorOptions {
  /** @defaultValue "process" */
  readonly mode?: IsolateMode;
  /**
   * Fork mode only: what to do where fork mode cannot run (not Linux, or its native addon cannot
   * load). By default the constructor throws `IsolateForkUnavailableError`; `"process"` runs in
   * process mode instead. (fork, issue 15)
   * @defaultValue undefined (throw)
   */
  readonly fallback?: "process";
  /** Children kept started and idle, so a call does not wait for a cold start. @defaultValue 1 */
  readonly spares?: number;
  /** Reuse children across calls (trading freshness for throughput); off by default: one call per child. */
  readonly reuse?: ReusePolicy | boolean;
  /**
   * Memory the function may use, in MiB. It sets the child's V8 heap limit
   * (`--max-old-space-size`, or the worker's `resourceLimits`), and in process mode the parent also
   * watches the child's resident memory, native buffers included: a call may grow it by this limit
   * plus headroom for V8's young generation and code (half the limit, at least 32 MiB) before the
   * child is killed with `IsolateOutOfMemoryError` (`kind: "rss"`).
   */
  readonly memoryLimitMb?: number;
  /** Calls running at once; more wait in a queue. @defaultValue available cores (at least 2) */
  readonly maxConcurrency?: number;
  /** Forward the isolated code's stdout/stderr ("inherit") or drop them ("ignore"). @defaultValue "inherit" */
  readonly output?: "inherit" | "ignore";
  /** Extra Node flags for the children (a bad flag fails the call with `IsolateStartError`). @defaultValue [] */
  readonly execArgv?: readonly string[];
  /**
   * The children's environment. By default they inherit the caller's whole environment
   * (`process.env`, secrets and `NODE_OPTIONS` included); pass an object to give them only that.
   * @defaultValue process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Idle children (spares, and reused children between calls) are stopped after this many
   * milliseconds without a call, and started again on the next call.
   * @defaultValue Infinity (kept until `close()`); `isolate()`'s shared pool uses 10 000
   */
  readonly idleTimeoutMs?: number;
}

/** Options of one call. */
export interface CallOptions<A extends readonly unknown[] = readonly unknown[]> {
  /** Arguments, sent by structured clone. */
  readonly args?: A;
  /** Stop the call (and kill its child) after this many milliseconds, CPU-bound code included. */
  readonly timeoutMs?: number;
  /** Stop the call (and kill its child) when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * A module export to run instead of a function's source:
 * `{ module: new URL("./task.js", import.meta.url), export: "run" }`. A relative string
 * (`"./task.mjs"`) is resolved against the caller's working directory (`process.cwd()`), like a
 * path on the command line; an absolute path or a `file:` URL is used as it is; a bare package
 * name is imported by the child as written. CommonJS modules work: `module.exports = { run }`
 * gives the export `run`, and `module.exports = fn` gives `default`.
 */
export interface ModuleTask {
  readonly module: string | URL;
  /** @defaultValue "default" */
  readonly export?: string;
}

/** Figures about one call, from `runWithStats`. */
export interface CallStats {
  /** Wall time seen by the caller, from taking a child to the settled result. */
  readonly wallMs: number;
  /** CPU time the isolated side used for the call (whole process in process mode; in worker mode, the process's). */
  readonly cpuMs: number;
  /** Peak resident memory of the isolated process (process mode: that child; worker mode: the whole process). */
  readonly peakRssBytes: number;
  /** V8 heap in use in the isolated context when the call ended. */
  readonly heapUsedBytes: number;
}
