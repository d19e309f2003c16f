import { MemkitError, type MemkitErrorOptions, MemkitTypeError, registerErrorClasses } from "../internal/errors.js";

/**
 * An owned handle was used after its ownership moved away (`intoRaw()`) or after it was freed.
 *
 * @example
 * ```ts
 * const raw = owned.intoRaw();
 * owned.ptr; // throws MovedError
 * ```
 */
export class MovedError extends MemkitError {
  /** @internal */
  constructor(action: string) {
    super(
      "ERR_MEMKIT_MOVED",
      `Cannot ${action}: this handle no longer owns its memory (it was moved out with intoRaw() or freed)`,
    );
  }
}

/**
 * A WebAssembly module lacks what memkit needs (an exported memory, `__heap_base`), or a native
 * library lacks a symbol.
 *
 * @example
 * ```ts
 * await instantiateWithHeap(bytesWithoutMemoryExport); // throws ForeignModuleError
 * ```
 */
export class ForeignModuleError extends MemkitTypeError {
  /** @internal */
  constructor(detail: string, options?: MemkitErrorOptions) {
    super("ERR_MEMKIT_FOREIGN_MODULE", detail, options);
  }
}

/**
 * An optional peer dependency (koffi, for native calls) is not installed.
 *
 * @example
 * ```ts
 * await loadNative(); // throws MissingPeerError with how to install koffi
 * ```
 */
export class MissingPeerError extends MemkitError {
  /** The package to install. */
  readonly peer: string;
  /** @internal */
  constructor(peer: string, cause: unknown) {
    super(
      "ERR_MEMKIT_MISSING_PEER",
      `memkit/ffi needs the optional package "${peer}" for native calls: run npm install ${peer} (without --omit=optional; it ships prebuilt binaries)`,
      { cause },
    );
    this.peer = peer;
  }
}

/** How a foreign allocator was found. */
export type ForeignAllocatorEvidence = "own-malloc" | "heap-overwritten" | "memory-grown";

const HOW_TO_BUILD =
  "Build it so that malloc/free/calloc/realloc are imports memkit serves: leave them undefined " +
  '(clang --target=wasm32 -nostdlib ... -Wl,--allow-undefined, or declare them with __attribute__((import_module("env")))), ' +
  "do not link wasi-libc's malloc (link a libc built without it, or --target=wasm32 without libc), " +
  "and install a library's allocator hooks (cJSON_InitHooks, sqlite3_config, zalloc...) before its first allocation";

/**
 * A WebAssembly module allocates with an allocator of its own in the memory memkit's heap
 * manages: both would hand out the same bytes. Found at instantiation (the module defines
 * malloc/free and imports none: `evidence` "own-malloc") or at the first return to JavaScript
 * after it happened (memkit's canary above `__heap_base` was overwritten: "heap-overwritten";
 * the memory grew without memkit: "memory-grown"). The instance refuses every later call.
 *
 * @example
 * ```ts
 * await instantiateWithHeap(moduleWithWasiLibcMalloc); // throws ForeignAllocatorError
 * ```
 */
export class ForeignAllocatorError extends MemkitError {
  /** What showed the foreign allocator. */
  readonly evidence: ForeignAllocatorEvidence;
  /** @internal */
  constructor(evidence: ForeignAllocatorEvidence, detail: string) {
    super("ERR_MEMKIT_FOREIGN_ALLOCATOR", `${detail}. ${HOW_TO_BUILD}.`);
    this.evidence = evidence;
  }
}

/**
 * `fromRaw` was given a pointer another handle already owns: owning it twice would free it twice.
 *
 * @example
 * ```ts
 * const a = Owned.fromRaw(heap, p);
 * Owned.fromRaw(heap, p); // throws AlreadyOwnedError
 * ```
 */
export class AlreadyOwnedError extends MemkitError {
  /** The pointer. */
  readonly pointer: number | bigint;
  /** @internal */
  constructor(pointer: number | bigint) {
    super(
      "ERR_MEMKIT_ALREADY_OWNED",
      `Cannot take ownership of pointer ${pointer}: a handle already owns it (use that handle, or move it out with intoRaw() first)`,
    );
    this.pointer = pointer;
  }
}

/**
 * `fromRaw` was given a pointer whose block was already freed.
 *
 * @example
 * ```ts
 * heap.free(p);
 * Owned.fromRaw(heap, p); // throws FreedPointerError
 * ```
 */
export class FreedPointerError extends MemkitError {
  /** The pointer. */
  readonly pointer: number | bigint;
  /** @internal */
  constructor(pointer: number | bigint) {
    super(
      "ERR_MEMKIT_USE_AFTER_FREE",
      `Cannot take ownership of pointer ${pointer}: its block was already freed (C returned a dangling pointer, or it was freed twice)`,
    );
    this.pointer = pointer;
  }
}

registerErrorClasses({
  MovedError,
  ForeignModuleError,
  MissingPeerError,
  ForeignAllocatorError,
  AlreadyOwnedError,
  FreedPointerError,
});
