import { MemkitError, MemkitTypeError, registerErrorClass } from "../internal/errors.js";

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
  constructor(detail: string) {
    super("ERR_MEMKIT_FOREIGN_MODULE", detail);
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

for (const ctor of [MovedError, ForeignModuleError, MissingPeerError]) registerErrorClass(ctor);
