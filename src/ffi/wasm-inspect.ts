import { type WasmModule, wasmApi } from "./wasm-types.js";

/** The C allocator functions memkit serves. */
export const ALLOCATOR_NAMES: readonly string[] = ["malloc", "free", "calloc", "realloc"];

/**
 * Function names that mean the module carries an allocator of its own: libc's (wasi-libc,
 * musl, dlmalloc, emmalloc), Rust's global allocator, or a raw `sbrk` over `memory.grow`.
 */
const OWN_ALLOCATOR =
  /^(malloc|free|calloc|realloc|dlmalloc|dlfree|dlrealloc|emmalloc_malloc|__libc_malloc|sbrk|__rust_alloc|__rdl_alloc|__rg_alloc)$/;

/** What memkit needs to know about a compiled module before instantiating it. */
export interface ModuleFacts {
  /** Every function, memory, table or global the module imports. */
  readonly imports: readonly { module: string; name: string; kind: string }[];
  /** The import module its malloc/free come from (undefined when it imports none). */
  readonly allocatorModule: string | undefined;
  /** Names of allocator functions it defines or exports itself (from its exports and name section). */
  readonly ownAllocator: readonly string[];
  /**
   * True when its allocator is memkit's own, compiled in (`src/heap/engine/tlsf.c` with
   * `-DMEMKIT_LINKED`): it exports `memkit_bind` and serves memkit's heap, so it is no foreign allocator.
   */
  readonly linkedAllocator: boolean;
}

/** Reads an unsigned LEB128 at `at`; returns [value, next offset]. */
function leb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  let byte = 0x80;
  while (byte & 0x80 && at < bytes.length) {
    byte = bytes[at++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  return [value, at];
}

/** Function names from a "name" custom section (subsection 1), or [] when it has none. */
export function functionNames(section: ArrayBuffer): string[] {
  const bytes = new Uint8Array(section);
  const decoder = new TextDecoder();
  const names: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const id = bytes[at++] as number;
    const [size, body] = leb(bytes, at);
    at = body + size;
    if (id !== 1) continue;
    let [count, p] = leb(bytes, body);
    for (; count > 0 && p < at; count--) {
      const [, afterIndex] = leb(bytes, p);
      const [length, text] = leb(bytes, afterIndex);
      names.push(decoder.decode(bytes.subarray(text, text + length)));
      p = text + length;
    }
  }
  return names;
}

/**
 * The imports, where malloc/free come from, and whether the module has an allocator of its own
 * (exported, or named in its name section; a stripped module shows only its exports).
 */
export function inspectModule(module: WasmModule): ModuleFacts {
  const api = wasmApi();
  const imports = api.Module.imports(module);
  const allocatorModule = imports.find((i) => i.kind === "function" && ALLOCATOR_NAMES.includes(i.name))?.module;
  const own = new Set<string>();
  const exports = api.Module.exports(module);
  const linkedAllocator = exports.some((e) => e.kind === "function" && e.name === "memkit_bind");
  for (const e of exports) if (e.kind === "function" && OWN_ALLOCATOR.test(e.name)) own.add(e.name);
  for (const section of api.Module.customSections(module, "name"))
    for (const name of functionNames(section)) if (OWN_ALLOCATOR.test(name)) own.add(name);
  // An imported function is named in the name section too: that one is memkit's, not the module's.
  for (const i of imports) if (i.kind === "function") own.delete(i.name);
  return { imports, allocatorModule, ownAllocator: linkedAllocator ? [] : [...own], linkedAllocator };
}
