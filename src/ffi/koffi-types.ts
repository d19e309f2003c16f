/**
 * The part of koffi's API memkit uses, typed by shape so that koffi stays an optional peer:
 * nothing here imports it. Pointers are BigInt in koffi 3.
 */
export interface KoffiLibrary {
  /** Declares a C function from its prototype. */
  func(prototype: string): (...args: unknown[]) => unknown;
}

/** The koffi module (loaded lazily by `loadNative`). */
export interface Koffi {
  /** Loads a shared library. */
  load(path: string): KoffiLibrary;
  /** Declares a callback type. */
  proto(definition: string): object;
  /** A pointer type. */
  pointer(type: unknown): object;
  /** Declares a struct type. */
  struct(name: string, members: Record<string, unknown>): object;
  /** Size of a type in bytes. */
  sizeof(type: unknown): number;
  /** Registers a JS function as a C callback. */
  register(callback: (...args: never[]) => unknown, type: unknown): bigint;
  /** Releases a registered callback. */
  unregister(pointer: bigint): void;
  /** Reads C memory as a JS value. */
  decode(pointer: unknown, type: unknown, length?: number): unknown;
  /** Writes a JS value into C memory. */
  encode(pointer: unknown, offset: number, type: unknown, value: unknown): void;
}
