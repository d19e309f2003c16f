import type { WasmMemory } from "../heap/index.js";

/**
 * The little of the WebAssembly JS API memkit needs, typed by shape: Node's type definitions do
 * not declare the `WebAssembly` namespace (only the DOM library does).
 */
export interface WasmGlobal {
  readonly value: unknown;
}

/** An instantiated module's exports. */
export type WasmExports = Record<string, unknown>;

/** What `WebAssembly.instantiate` resolves with. */
export interface WasmInstance {
  readonly exports: WasmExports;
}

/** A compiled module (`WebAssembly.Module`). */
export type WasmModule = object;

interface WasmNamespace {
  /** Resolves with an instance for a compiled module, with `{ instance, module }` for bytes. */
  instantiate(
    source: WasmModule | ArrayBufferView | ArrayBuffer,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<WasmInstance | { instance: WasmInstance; module: WasmModule }>;
  /** Compiles bytes into a module. */
  compile(bytes: ArrayBufferView | ArrayBuffer): Promise<WasmModule>;
  readonly Module: (abstract new (
    ...args: never[]
  ) => object) & {
    imports(module: WasmModule): { module: string; name: string; kind: string }[];
    exports(module: WasmModule): { name: string; kind: string }[];
    customSections(module: WasmModule, name: string): ArrayBuffer[];
  };
  readonly Memory: abstract new (...args: never[]) => object;
  readonly Global: abstract new (...args: never[]) => object;
}

/** A mutable `WebAssembly.Global` (C's `__stack_pointer`). */
export interface WasmMutableGlobal {
  value: unknown;
}

/** The engine's `WebAssembly` namespace. */
export function wasmApi(): WasmNamespace {
  return (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;
}

/** True when `value` is a `WebAssembly.Memory`. */
export function isMemory(value: unknown): value is WasmMemory {
  return value instanceof wasmApi().Memory;
}
