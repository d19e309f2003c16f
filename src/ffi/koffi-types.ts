/**
 * The part of koffi's API memkit uses, typed by shape so that koffi stays an optional peer:
 * nothing here imports it. Pointers are BigInt in koffi 3.
 */
export interface KoffiLibrary {
  func(prototype: string): (...args: unknown[]) => unknown;
}

/** The koffi module (loaded lazily by `loadNative`). */
export interface Koffi {
  load(path: string): KoffiLibrary;
  proto(definition: string): object;
  pointer(type: unknown): object;
  struct(name: string, members: Record<string, unknown>): object;
  sizeof(type: unknown): number;
  register(callback: (...args: never[]) => unknown, type: unknown): bigint;
  unregister(pointer: bigint): void;
  decode(pointer: unknown, type: unknown, length?: number): unknown;
  encode(pointer: unknown, offset: number, type: unknown, value: unknown): void;
}
