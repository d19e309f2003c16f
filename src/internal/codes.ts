/**
 * The single registry of memkit error codes. Codes are stable API: tests and callers match on
 * them, never on message text. Add new codes here, never inline a string elsewhere.
 */
export const ErrorCodes = {
  /** An argument had the wrong type (not a number, not a function, not a buffer...). */
  INVALID_ARGUMENT: "ERR_MEMKIT_INVALID_ARGUMENT",
  /** A size or count was negative, NaN, infinite, fractional or too large. */
  INVALID_SIZE: "ERR_MEMKIT_INVALID_SIZE",
  /** An alignment was not a power of two, or out of the supported range. */
  INVALID_ALIGNMENT: "ERR_MEMKIT_INVALID_ALIGNMENT",
  /** The heap had no block large enough and could not grow. */
  OUT_OF_MEMORY: "ERR_MEMKIT_OUT_OF_MEMORY",
  /** A pointer was not the start of a live block of this heap. */
  INVALID_POINTER: "ERR_MEMKIT_INVALID_POINTER",
  /** A block was freed twice. */
  DOUBLE_FREE: "ERR_MEMKIT_DOUBLE_FREE",
  /** A freed cell or handle was used. */
  USE_AFTER_FREE: "ERR_MEMKIT_USE_AFTER_FREE",
  /** The heap's own structures are damaged (found by `check()` or a red zone). */
  HEAP_CORRUPTION: "ERR_MEMKIT_HEAP_CORRUPTION",
  /** A buffer given to `attach` holds no memkit heap. */
  NOT_A_HEAP: "ERR_MEMKIT_NOT_A_HEAP",
  /** A buffer holds a heap of a layout version this build cannot read. */
  LAYOUT_VERSION: "ERR_MEMKIT_LAYOUT_VERSION",
  /** The operation is not supported by this strategy or backing memory. */
  UNSUPPORTED: "ERR_MEMKIT_UNSUPPORTED",
  /** An initializer read its own once-cell while running. */
  REENTRANT_INIT: "ERR_MEMKIT_REENTRANT_INIT",
  /** A once-cell or `Once` whose initializer failed under the "poison" policy. */
  POISONED: "ERR_MEMKIT_POISONED",
  /** A value did not fit the capacity reserved for it. */
  CAPACITY_EXCEEDED: "ERR_MEMKIT_CAPACITY_EXCEEDED",
  /** A value could not be serialized (structured clone) to cross a boundary. */
  NOT_SERIALIZABLE: "ERR_MEMKIT_NOT_SERIALIZABLE",
  /** A wait was cancelled through an `AbortSignal`. */
  ABORTED: "ERR_MEMKIT_ABORTED",
  /** A wait or call ran past its time limit. */
  TIMEOUT: "ERR_MEMKIT_TIMEOUT",
  /** An isolated child ran out of memory. */
  ISOLATE_OUT_OF_MEMORY: "ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY",
  /** An isolated child crashed (signal or abnormal exit). */
  ISOLATE_CRASHED: "ERR_MEMKIT_ISOLATE_CRASHED",
  /** An isolated child called `process.exit` before returning. */
  ISOLATE_EXITED: "ERR_MEMKIT_ISOLATE_EXITED",
  /** An isolated function could not be sent (not self-contained source). */
  ISOLATE_INVALID_FUNCTION: "ERR_MEMKIT_ISOLATE_INVALID_FUNCTION",
  /** A fallible allocation failed (exhausted, over budget, injected, or capacity overflow). */
  ALLOC_FAILED: "ERR_MEMKIT_ALLOC_FAILED",
  /** A failpoint spec could not be parsed. */
  INVALID_FAILPOINT: "ERR_MEMKIT_INVALID_FAILPOINT",
  /** A failpoint configured with throw() fired. */
  FAILPOINT: "ERR_MEMKIT_FAILPOINT",
  /** An owned handle was used after its ownership moved away (`intoRaw()`) or it was freed. */
  MOVED: "ERR_MEMKIT_MOVED",
  /** A foreign (WebAssembly or native) module did not have what memkit needs from it. */
  FOREIGN_MODULE: "ERR_MEMKIT_FOREIGN_MODULE",
  /** An optional peer dependency is not installed. */
  MISSING_PEER: "ERR_MEMKIT_MISSING_PEER",
  /** The command line was used wrongly. */
  CLI_USAGE: "ERR_MEMKIT_CLI_USAGE",
  /** An isolated child could not be started (spawn or boot failed): the function never ran. (isolate, issue 11) */
  ISOLATE_START_FAILED: "ERR_MEMKIT_ISOLATE_START_FAILED",
  /** An isolated task's module or source could not be loaded: the function never ran. (isolate, issue 11) */
  ISOLATE_LOAD_FAILED: "ERR_MEMKIT_ISOLATE_LOAD_FAILED",
  /** A thread died holding a shared heap's lock mid-operation; the heap needs `recover()` (heap, issue #10). */
  HEAP_POISONED: "ERR_MEMKIT_HEAP_POISONED",
  /** Shared memory was asked for where SharedArrayBuffer is unavailable (heap, issue #14). */
  SHARED_MEMORY_UNAVAILABLE: "ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE",
  /** A WebAssembly module allocates with its own allocator in memory memkit's heap manages (memkit/ffi). */
  FOREIGN_ALLOCATOR: "ERR_MEMKIT_FOREIGN_ALLOCATOR",
  /** `fromRaw` was given a pointer a handle already owns (memkit/ffi). */
  ALREADY_OWNED: "ERR_MEMKIT_ALREADY_OWNED",
  /** memkit/isolate's fork mode cannot run here (not Linux, or its native addon cannot load). (fork, issue 15) */
  ISOLATE_FORK_UNAVAILABLE: "ERR_MEMKIT_ISOLATE_FORK_UNAVAILABLE",
} as const;

/** One of the stable `ERR_MEMKIT_*` codes. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** True when `code` is one of memkit's registered codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && knownCodes.has(code);
}
