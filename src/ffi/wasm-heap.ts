import { Heap, type HeapInstanceOptions, type WasmMemory } from "../heap/index.js";
import { ForeignModuleError } from "./errors.js";
import { isMemory, type WasmExports, type WasmGlobal, type WasmModule, wasmApi } from "./wasm-types.js";

/** Options of `instantiateWithHeap`. */
export interface WasmHeapOptions extends Omit<HeapInstanceOptions, "base"> {
  /** Other imports the module needs (merged; the allocator functions are added to `allocatorModule`). */
  readonly imports?: Record<string, Record<string, unknown>>;
  /** Import module the C code declares malloc/free/calloc/realloc in. @defaultValue "env" */
  readonly allocatorModule?: string;
  /** @defaultValue "alloc" */
  readonly zero?: "alloc" | "free" | "none";
}

/** A module whose C allocations are served by a memkit heap shared with TypeScript. */
export interface WasmWithHeap {
  readonly exports: WasmExports;
  readonly memory: WasmMemory;
  /** The heap over the module's free memory (from `__heap_base`): allocate here, free in C, and back. */
  readonly heap: Heap;
}

/**
 * The allocator functions a C module imports, backed by `heap`, with C's conventions: `malloc`
 * returns NULL (0) when memory runs out, `free(NULL)` does nothing, `realloc(NULL, n)` allocates.
 * A double free or an invalid free from C throws the heap's typed error out through the call into
 * the module, and leaves the heap intact.
 */
export function allocatorImports(heap: () => Heap): Record<string, (...args: number[]) => number | undefined> {
  // WebAssembly passes i32 as signed: `>>> 0` reads a pointer or size as the unsigned value C meant.
  return {
    malloc: (size = 0) => heap().tryMalloc(size >>> 0),
    free: (ptr = 0) => {
      if (ptr !== 0) heap().free(ptr >>> 0);
      return undefined;
    },
    calloc: (count = 0, size = 0) => {
      const bytes = (count >>> 0) * (size >>> 0);
      if (bytes > 0x7fff_fff8) return 0;
      const ptr = heap().tryMalloc(bytes);
      if (ptr !== 0) heap().u8.fill(0, ptr, ptr + bytes);
      return ptr;
    },
    realloc: (ptr = 0, size = 0) => {
      if (ptr === 0) return heap().tryMalloc(size >>> 0);
      try {
        return heap().realloc(ptr >>> 0, size >>> 0);
      } catch (error) {
        if ((error as { code?: string }).code === "ERR_MEMKIT_OUT_OF_MEMORY") return 0;
        throw error;
      }
    },
  };
}

/**
 * Instantiates a WebAssembly module whose C code imports `malloc`/`free`/`calloc`/`realloc`, and
 * serves them from a memkit heap over the module's own linear memory, above its data and stack
 * (`__heap_base`). C and TypeScript then share one allocator: TypeScript allocates and C frees, C
 * allocates and TypeScript frees. `memory.grow` is handled (views are re-created).
 *
 * @param source The module's bytes or a compiled `WebAssembly.Module`.
 * @param options Extra imports, heap options (debug, trackSites...).
 * @returns The exports, the memory and the shared heap.
 * @throws {ForeignModuleError} ERR_MEMKIT_FOREIGN_MODULE when the module exports no memory or `__heap_base`.
 * @example
 * ```ts
 * const { exports, heap } = await instantiateWithHeap(readFileSync("lib.wasm"));
 * const name = writeCString(heap, "world");
 * const greeting = takeCString(heap, (exports.make_greeting as (p: number) => number)(name));
 * heap.free(name);
 * ```
 */
export async function instantiateWithHeap(
  source: ArrayBufferView | ArrayBuffer | WasmModule,
  options: WasmHeapOptions = {},
): Promise<WasmWithHeap> {
  let heap: Heap | undefined;
  const getHeap = () => {
    if (heap === undefined)
      throw new ForeignModuleError(
        "The module called malloc/free while it was being instantiated, before its heap exists",
      );
    return heap;
  };
  const moduleName = options.allocatorModule ?? "env";
  const imports = {
    ...options.imports,
    [moduleName]: { ...options.imports?.[moduleName], ...allocatorImports(getHeap) },
  };
  const result = await wasmApi().instantiate(source, imports);
  const instance = "instance" in result ? result.instance : result;
  const { memory, __heap_base: heapBase } = instance.exports;
  if (!isMemory(memory))
    throw new ForeignModuleError('The module exports no memory named "memory" (link with --export-memory)');
  const base = Number((heapBase as WasmGlobal | undefined)?.value ?? Number.NaN);
  if (!Number.isInteger(base) || base <= 0)
    throw new ForeignModuleError("The module exports no __heap_base global (link with --export=__heap_base)");
  const { imports: _imports, allocatorModule: _module, ...heapOptions } = options;
  heap = Heap.over(memory, { ...heapOptions, base: (base + 7) & -8 });
  return { exports: instance.exports, memory, heap };
}
