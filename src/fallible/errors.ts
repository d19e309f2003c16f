import { MemkitError, MemkitTypeError, registerErrorClasses } from "../internal/errors.js";

/** Why an allocation failed. */
export type AllocFailure = "exhausted" | "budget" | "injected" | "capacity-overflow";

/**
 * An allocation failed, as a value you can handle: the heap was exhausted, a budget said no, a
 * fault was injected on purpose, or a collection's size would overflow its capacity.
 *
 * @example
 * ```ts
 * const r = alloc.allocate(1 << 20);
 * if (!r.ok) console.log(r.error.kind, r.error.requested, r.error.available);
 * ```
 */
export class AllocError extends MemkitError {
  /** Why it failed. */
  readonly kind: AllocFailure;
  /** Bytes asked for. */
  readonly requested: number;
  /** What was available: free bytes, budget left, or the capacity limit. */
  readonly available: number;
  /** @internal */
  constructor(kind: AllocFailure, requested: number, available: number, detail = "") {
    const why = {
      exhausted: `the heap has no block that large (largest free: ${available} bytes)`,
      budget: `the budget allows ${available} more bytes`,
      injected: "a fault was injected on purpose",
      "capacity-overflow": `the size would pass the capacity limit of ${available}`,
    }[kind];
    super("ERR_MEMKIT_ALLOC_FAILED", `Cannot allocate ${requested} bytes: ${why}${detail ? ` (${detail})` : ""}`);
    this.kind = kind;
    this.requested = requested;
    this.available = available;
  }
}

/**
 * A failpoint spec could not be parsed; the message points at the bad part.
 *
 * @example
 * ```ts
 * configureFailpoint("db.write", "20%%throw"); // InvalidFailpointError
 * ```
 */
export class InvalidFailpointError extends MemkitTypeError {
  /** The spec given. */
  readonly spec: string;
  /** @internal */
  constructor(spec: string, problem: string) {
    super(
      "ERR_MEMKIT_INVALID_FAILPOINT",
      `Cannot parse failpoint spec ${JSON.stringify(spec)}: ${problem}. Expected e.g. "20%3*throw(msg)->off", "return(5)", "sleep(10)".`,
    );
    this.spec = spec;
  }
}

/**
 * Thrown by a failpoint whose action is `throw(message)`.
 *
 * @example
 * ```ts
 * configureFailpoint("net.send", "throw(link down)");
 * failpoint("net.send"); // throws FailpointError { failpoint: "net.send" }
 * ```
 */
export class FailpointError extends MemkitError {
  /** The failpoint's name. */
  readonly failpoint: string;
  /** @internal */
  constructor(name: string, message: string) {
    super("ERR_MEMKIT_FAILPOINT", message || `Failpoint ${name} fired`);
    this.failpoint = name;
  }
}

/**
 * A failpoint action that the synchronous `failpoint()` cannot honour: `pause` waits until the
 * failpoint is reconfigured, which only other code on this thread can do, so blocking for it would
 * never end. Use `await failpointAsync(name)` at points that may be paused.
 *
 * @example
 * ```ts
 * configureFailpoint("db.write", "pause");
 * failpoint("db.write"); // FailpointUnsupportedError; failpointAsync("db.write") waits instead
 * ```
 */
export class FailpointUnsupportedError extends MemkitError {
  /** The failpoint's name. */
  readonly failpoint: string;
  /** @internal */
  constructor(name: string, task: string) {
    super(
      "ERR_MEMKIT_UNSUPPORTED",
      `Failpoint ${name} is configured to ${task}, which the synchronous failpoint() cannot do without blocking this thread forever; call await failpointAsync(${JSON.stringify(name)}) there`,
    );
    this.failpoint = name;
  }
}

registerErrorClasses({ AllocError, InvalidFailpointError, FailpointError, FailpointUnsupportedError });
