import { DoubleFreeError, InvalidPointerError } from "../heap/index.js";
import { InvalidArgumentError } from "../internal/errors.js";
import { AlreadyOwnedError, MissingPeerError, MovedError } from "./errors.js";
import type { Koffi } from "./koffi-types.js";

export type { Koffi, KoffiLibrary } from "./koffi-types.js";

const RECENT_FREES = 4096;

/** Options of `loadNative`. */
export interface NativeOptions {
  /** How to load koffi (tests pass a failing loader to simulate its absence). @defaultValue () => import("koffi") */
  readonly loader?: () => Promise<unknown>;
  /** The C library to take malloc/calloc/strdup/free from. @defaultValue "libc.so.6" on Linux */
  readonly libc?: string;
}

/** What the allocation counter has seen. */
export interface NativeCounts {
  /** Blocks allocated through this object (malloc, calloc, strdup) or adopted with `fromRaw`. */
  readonly allocated: number;
  /** Blocks freed through this object. */
  readonly freed: number;
  /** Blocks handed to C with `intoRaw` (C frees them). */
  readonly handedOff: number;
  /** Blocks this object still owns. */
  readonly live: number;
}

/**
 * libc memory seen from JavaScript with ownership tracked: allocate with the allocator the C
 * callee will free with (`malloc`, `calloc`, `strdup`), hand blocks over with `intoRaw`, take them
 * back with `fromRaw`, and count everything so tests can prove that nothing leaked or was freed
 * twice. A second free of a block through this object is a `DoubleFreeError` (libc is not called,
 * so the process does not abort).
 *
 * @example
 * ```ts
 * const native = await loadNative();
 * using name = native.strdup("world");
 * someCFunctionThatFrees(name.intoRaw());
 * ```
 */
export class Native {
  /** The koffi module, to declare the C functions you call. */
  readonly koffi: Koffi;
  readonly #malloc: (n: number) => unknown;
  readonly #calloc: (n: number, size: number) => unknown;
  readonly #strdup: (s: string) => unknown;
  readonly #free: (p: bigint) => unknown;
  readonly #owned = new Set<bigint>();
  readonly #released = new Set<bigint>();
  #counts = { allocated: 0, freed: 0, handedOff: 0 };

  /** @internal Use `loadNative()`. */
  constructor(koffi: Koffi, libcPath: string) {
    this.koffi = koffi;
    const libc = koffi.load(libcPath);
    this.#malloc = libc.func("void *malloc(size_t size)") as (n: number) => unknown;
    this.#calloc = libc.func("void *calloc(size_t count, size_t size)") as (n: number, s: number) => unknown;
    this.#strdup = libc.func("void *strdup(const char *s)") as (s: string) => unknown;
    this.#free = libc.func("void free(void *ptr)") as (p: bigint) => unknown;
  }

  /** The allocation counter. */
  get counts(): NativeCounts {
    return { ...this.#counts, live: this.#owned.size };
  }

  #adopt(ptr: unknown, what: string): NativeOwned {
    const address = typeof ptr === "bigint" ? ptr : ptr === null || ptr === undefined ? 0n : BigInt(ptr as number);
    if (address === 0n) throw new InvalidPointerError(0, `${what} returned NULL (out of memory)`);
    this.#owned.add(address);
    this.#released.delete(address);
    this.#counts.allocated++;
    return new NativeOwned(this, address);
  }

  /**
   * `malloc(bytes)`, owned.
   * @param bytes Size.
   * @returns The owned block.
   * @example
   * ```ts
   * using block = native.malloc(64);
   * ```
   */
  malloc(bytes: number): NativeOwned {
    return this.#adopt(this.#malloc(bytes), "malloc");
  }

  /**
   * `calloc(count, size)`, owned (zeroed).
   * @param count Elements.
   * @param size Bytes per element.
   * @returns The owned block.
   * @example
   * ```ts
   * using array = native.calloc(4, 16);
   * ```
   */
  calloc(count: number, size: number): NativeOwned {
    return this.#adopt(this.#calloc(count, size), "calloc");
  }

  /**
   * `strdup(text)`: a C string in libc's heap, owned.
   * @param text The string.
   * @returns The owned string.
   * @example
   * ```ts
   * using s = native.strdup("hello");
   * ```
   */
  strdup(text: string): NativeOwned {
    return this.#adopt(this.#strdup(text), "strdup");
  }

  /**
   * Takes ownership of a block C allocated with libc and handed over. What libc's free would
   * crash or abort on is refused first: a plain number (koffi gives pointers as BigInt), NULL,
   * an address no malloc returns (in the first page, or not 16-byte aligned) and a block a handle
   * of this object already owns. (A freed address cannot be refused: libc may have handed it out
   * again to the C code that returns it.)
   * @param ptr The pointer, as koffi returns it.
   * @returns The owned block.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT when `ptr` is not a BigInt.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER for NULL or an address malloc never returns.
   * @throws {AlreadyOwnedError} ERR_MEMKIT_ALREADY_OWNED when a handle of this object owns it.
   * @example
   * ```ts
   * using result = native.fromRaw(cFunctionReturningMallocedString());
   * ```
   */
  fromRaw(ptr: bigint): NativeOwned {
    if (typeof ptr !== "bigint")
      throw new InvalidArgumentError(
        `fromRaw needs a pointer as koffi returns it (a BigInt), got ${typeof ptr} ${String(ptr)}: a plain number is not a pointer`,
      );
    if (ptr === 0n) throw new InvalidPointerError(0, "NULL cannot be owned");
    // glibc (and every malloc on 64-bit Linux) returns 16-byte aligned blocks, never in the first page.
    if (ptr < 4096n || ptr % 16n !== 0n)
      throw new InvalidPointerError(
        Number(ptr),
        "malloc never returns this address (in the first page or not 16-byte aligned)",
      );
    if (this.#owned.has(ptr)) throw new AlreadyOwnedError(ptr);
    return this.#adopt(ptr, "the C function");
  }

  /**
   * Reads the NUL-terminated UTF-8 string at `ptr` (ownership unchanged).
   * @param ptr A C string.
   * @returns The string.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER for NULL.
   * @example
   * ```ts
   * native.readCString(owned.ptr);
   * ```
   */
  readCString(ptr: bigint): string {
    if (ptr === 0n) throw new InvalidPointerError(0, "cannot read a C string at NULL");
    return this.koffi.decode(ptr, "char", -1) as string;
  }

  /** @internal */
  release(ptr: bigint): void {
    this.#owned.delete(ptr);
    this.#counts.handedOff++;
  }

  /**
   * Frees a block this object owns.
   * @param ptr The pointer.
   * @throws {DoubleFreeError} ERR_MEMKIT_DOUBLE_FREE when it was already freed here.
   * @throws {InvalidPointerError} ERR_MEMKIT_INVALID_POINTER when this object never owned it.
   * @example
   * ```ts
   * native.free(ptr);
   * ```
   */
  free(ptr: bigint): void {
    if (!this.#owned.has(ptr)) {
      if (this.#released.has(ptr)) throw new DoubleFreeError(Number(ptr));
      throw new InvalidPointerError(Number(ptr), "this Native object does not own it");
    }
    this.#owned.delete(ptr);
    // Remember recent frees to tell a double free from a foreign pointer, but not forever.
    this.#released.add(ptr);
    if (this.#released.size > RECENT_FREES) this.#released.delete(this.#released.values().next().value as bigint);
    this.#free(ptr);
    this.#counts.freed++;
  }
}

/**
 * A block of libc memory with an owner; see `Owned` for the move semantics.
 *
 * @example
 * ```ts
 * const s = native.strdup("x");
 * c.takes_ownership(s.intoRaw());
 * ```
 */
export class NativeOwned {
  readonly #native: Native;
  #ptr: bigint;

  /** @internal */
  constructor(native: Native, ptr: bigint) {
    this.#native = native;
    this.#ptr = ptr;
  }

  /** True while this handle owns its memory. */
  get isOwned(): boolean {
    return this.#ptr !== 0n;
  }

  /**
   * The pointer, to pass to C without giving ownership away.
   * @throws {MovedError} ERR_MEMKIT_MOVED after `intoRaw()` or `free()`.
   */
  get ptr(): bigint {
    if (this.#ptr === 0n) throw new MovedError("read the pointer");
    return this.#ptr;
  }

  /**
   * Gives the ownership to C (which will free it with libc's free).
   * @returns The pointer.
   * @throws {MovedError} ERR_MEMKIT_MOVED when already moved or freed.
   * @example
   * ```ts
   * c.consume(owned.intoRaw());
   * ```
   */
  intoRaw(): bigint {
    const ptr = this.ptr;
    this.#ptr = 0n;
    this.#native.release(ptr);
    return ptr;
  }

  /**
   * Frees it now with libc's free.
   * @throws {MovedError} ERR_MEMKIT_MOVED when already moved or freed.
   * @example
   * ```ts
   * owned.free();
   * ```
   */
  free(): void {
    const ptr = this.ptr;
    this.#ptr = 0n;
    this.#native.free(ptr);
  }

  /** Frees at the end of a `using` scope if still owned. */
  [Symbol.dispose](): void {
    if (this.#ptr !== 0n) this.free();
  }
}

/**
 * Loads koffi (an optional peer dependency, loaded only now) and libc.
 *
 * @param options A custom loader or libc path.
 * @returns The native memory helper.
 * @throws {MissingPeerError} ERR_MEMKIT_MISSING_PEER when koffi is not installed, saying how to install it.
 * @example
 * ```ts
 * const native = await loadNative();
 * ```
 */
export async function loadNative(options: NativeOptions = {}): Promise<Native> {
  let loaded: unknown;
  try {
    // A variable specifier keeps bundlers and TypeScript from requiring the optional peer.
    const name = "koffi";
    loaded = await (options.loader ?? (() => import(name)))();
  } catch (error) {
    throw new MissingPeerError("koffi", error);
  }
  const koffi = ((loaded as { default?: unknown }).default ?? loaded) as Koffi;
  return new Native(koffi, options.libc ?? "libc.so.6");
}
