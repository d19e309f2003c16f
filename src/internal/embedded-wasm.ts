/**
 * A small WebAssembly module memkit ships as base64 inside its JavaScript (the heap's engine, the
 * ffi allocator slots), so every runtime loads it the same way, with no file system or fetch.
 * Compiled once, on first use; where WebAssembly is missing or refuses (a content security policy
 * without 'wasm-unsafe-eval', a main-thread size limit) the caller keeps its JavaScript path.
 */
interface WasmShape {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

/** Bytes from base64, with `atob` (Node >= 16, browsers, Deno, Bun). */
function bytesFromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export class EmbeddedWasm {
  readonly #base64: string;
  /** The compiled module; null once compiling failed (not tried again). */
  #module: object | null | undefined = undefined;

  constructor(base64: string) {
    this.#base64 = base64;
  }

  /** Whether the module compiles in this runtime. */
  get available(): boolean {
    return this.#compiled() !== undefined;
  }

  /** A new instance's exports, or undefined when the module does not compile or link here. */
  instantiate(imports: object): unknown {
    const module = this.#compiled();
    if (module === undefined) return undefined;
    try {
      return new (globalThis as unknown as { WebAssembly: WasmShape }).WebAssembly.Instance(module, imports).exports;
    } catch {
      return undefined;
    }
  }

  #compiled(): object | undefined {
    if (this.#module === undefined) {
      this.#module = null;
      try {
        const api = (globalThis as { WebAssembly?: WasmShape }).WebAssembly;
        if (api !== undefined && typeof atob === "function")
          this.#module = new api.Module(bytesFromBase64(this.#base64));
      } catch {
        // Refused here: the caller keeps its JavaScript path.
      }
    }
    return this.#module ?? undefined;
  }
}
