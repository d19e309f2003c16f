import { type CAllocatorFunctions, Heap, type HeapInstanceOptions, type WasmMemory } from "../heap/index.js";
import { InvalidArgumentError } from "../internal/errors.js";
import { Boundary, type CAllocator, CANARY_BYTES, type CErrorPolicy } from "./boundary.js";
import { cAllocatorImports, reportFromC } from "./c-allocator.js";
import { CAllocatorSlots } from "./c-allocator-slots.js";
import { ForeignAllocatorError, ForeignModuleError } from "./errors.js";
import { inspectModule, type ModuleFacts } from "./wasm-inspect.js";
import {
  isMemory,
  type WasmExports,
  type WasmGlobal,
  type WasmInstance,
  type WasmModule,
  type WasmMutableGlobal,
  wasmApi,
} from "./wasm-types.js";
import { wrapExports } from "./wrap-exports.js";

export type { CAllocator, CErrorPolicy } from "./boundary.js";

/** Options of `instantiateWithHeap`. */
export interface WasmHeapOptions extends Omit<HeapInstanceOptions, "base"> {
  /** Other imports the module needs (merged; the allocator functions are added to `allocatorModule`). */
  readonly imports?: Record<string, Record<string, unknown>>;
  /**
   * Import module the C code declares malloc/free/calloc/realloc in.
   * @defaultValue the module its malloc/free imports name, else "env"
   */
  readonly allocatorModule?: string;
  /**
   * What new blocks contain (see `HeapOptions.zero`). C's malloc promises nothing and C's
   * calloc zeroes (memkit's does), so a module's heap does not pay for zeroing every block.
   * @defaultValue "none"
   */
  readonly zero?: "alloc" | "free" | "none";
  /** The most the heap may use, header included. @defaultValue the memory's limit */
  readonly maxBytes?: number;
  /**
   * Most bytes of headroom a growth of the module's memory adds beyond what the allocation needs
   * (see `HeapInstanceOptions.growthHeadroom`). Small for a module: WebAssembly memory never
   * shrinks, so headroom is paid for the life of the instance (measured on the JSON fixture with
   * 1-8 MB documents: memory within 1.21-1.23x of the module's own malloc at 256 KiB, up to 1.33x
   * at the heaps' 8 MiB default; the first, growing round trip of an 8 MB document costs ~7% more).
   * @defaultValue 256 KiB
   */
  readonly growthHeadroom?: number;
  /**
   * A double or invalid free from C: `"defer"` records it, lets C carry on and throws the typed
   * error when control returns to JavaScript; `"trap"` throws at once, unwinding C (memkit then
   * restores C's stack pointer, so the module must export `__stack_pointer`).
   * @defaultValue "defer"
   */
  readonly onCError?: CErrorPolicy;
  /** Run `heap.check()` every time control returns to JavaScript (O(blocks): for debugging). @defaultValue false */
  readonly checkOnReturn?: boolean;
  /** The allocator C's malloc goes through (a budget or a fault injector over the heap). @defaultValue the heap */
  readonly allocator?: (heap: Heap) => CAllocator;
}

/** A module whose C allocations are served by a memkit heap shared with TypeScript. */
export interface WasmWithHeap<E extends object = WasmExports> {
  /** The exports, each function wrapped so that what C caused is thrown when it returns. */
  readonly exports: E;
  readonly memory: WasmMemory;
  /** The heap over the module's free memory (above `__heap_base`): allocate here, free in C, and back. */
  readonly heap: Heap;
  /** Allocations from C that returned NULL so far (too large, out of memory, budget, injected). */
  readonly failedAllocations: number;
  /**
   * Routes C's malloc/free through `allocator` (a layer over this module's heap, e.g. a
   * `FaultInjector` from memkit/fallible), or back to the heap itself with `undefined`.
   */
  useAllocator(allocator: CAllocator | undefined): void;
}

async function compile(source: ArrayBufferView | ArrayBuffer | WasmModule): Promise<WasmModule> {
  const api = wasmApi();
  if (source instanceof api.Module) return source;
  if (!(source instanceof ArrayBuffer || ArrayBuffer.isView(source)))
    throw new InvalidArgumentError(
      `instantiateWithHeap needs the module's bytes or a WebAssembly.Module, got ${Object.prototype.toString.call(source)}`,
    );
  try {
    return await api.compile(source);
  } catch (error) {
    throw new ForeignModuleError(`The bytes are not a valid WebAssembly module: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function allocatorModuleOf(facts: ModuleFacts, requested: string | undefined): string {
  if (facts.allocatorModule === undefined && facts.ownAllocator.length > 0)
    throw new ForeignAllocatorError(
      "own-malloc",
      `The module has an allocator of its own (${facts.ownAllocator.join(", ")}) and imports no malloc/free: it would hand out the memory memkit's heap manages`,
    );
  if (requested !== undefined && facts.allocatorModule !== undefined && requested !== facts.allocatorModule)
    throw new ForeignModuleError(
      `allocatorModule is "${requested}" but the module imports malloc/free from "${facts.allocatorModule}": set allocatorModule: "${facts.allocatorModule}" (or leave it out)`,
    );
  return requested ?? facts.allocatorModule ?? "env";
}

function checkImports(facts: ModuleFacts, imports: Record<string, Record<string, unknown>>): void {
  const missing = facts.imports.filter((i) => imports[i.module]?.[i.name] === undefined);
  if (missing.length === 0) return;
  const list = missing.map((i) => `${i.module}.${i.name} (${i.kind})`);
  const wasi = missing.some((i) => i.module.startsWith("wasi_"))
    ? "; for WASI imports pass a WASI implementation's imports (node:wasi's wasiImport)"
    : "";
  throw new ForeignModuleError(
    `The module needs imports nobody provides: ${list.slice(0, 10).join(", ")}${list.length > 10 ? ", ..." : ""}. Pass them in options.imports${wasi}`,
  );
}

function memoryOf(instance: WasmInstance, facts: ModuleFacts, imports: Record<string, Record<string, unknown>>) {
  const exported = instance.exports.memory;
  if (isMemory(exported)) return exported;
  const imported = facts.imports.find((i) => i.kind === "memory");
  const memory = imported === undefined ? undefined : imports[imported.module]?.[imported.name];
  if (isMemory(memory)) return memory;
  throw new ForeignModuleError('The module exports no memory named "memory" (link with --export-memory)');
}

/** A module heap's default `growthHeadroom` (see `WasmHeapOptions.growthHeadroom`). */
const MODULE_GROWTH_HEADROOM = 256 * 1024;

/** The heap needs room above `base` for its header: a module's first page may end right there. */
function makeRoom(memory: WasmMemory, base: number): void {
  const want = base + 64 * 1024;
  const have = memory.buffer.byteLength;
  if (have < want) memory.grow(Math.ceil((want - have) / 65536));
}

/**
 * Instantiates a WebAssembly module whose C code imports `malloc`/`free`/`calloc`/`realloc`, and
 * serves them from a memkit heap over the module's own linear memory, above its data and stack
 * (`__heap_base`). C and TypeScript then share one allocator, with C's rules inside C (every
 * failed allocation is NULL; a bad free is recorded and C carries on) and memkit's in
 * JavaScript (the typed error is thrown when the call returns; the instance stays usable).
 * A module with an allocator of its own is refused; one that writes over memkit's heap with its
 * own allocator (library hooks not installed) is caught when the call returns. A module with
 * memkit's allocator compiled in (`src/heap/engine/tlsf.c` built with `-DMEMKIT_LINKED`: it
 * exports `memkit_bind`) is bound to the heap, so C's malloc and free stay inside the module.
 *
 * @param source The module's bytes or a compiled `WebAssembly.Module`.
 * @param options Extra imports, heap options, the bad-free policy, an allocator layer.
 * @returns The (wrapped, typed) exports, the memory and the shared heap.
 * @throws {ForeignAllocatorError} ERR_MEMKIT_FOREIGN_ALLOCATOR when the module has its own malloc and imports none.
 * @throws {ForeignModuleError} ERR_MEMKIT_FOREIGN_MODULE for invalid bytes, missing imports, a wrong
 *   `allocatorModule`, no exported memory or `__heap_base`, or `onCError: "trap"` without `__stack_pointer`.
 * @example
 * ```ts
 * interface Lib { make_greeting(name: number): number }
 * const { exports, heap } = await instantiateWithHeap<Lib>(readFileSync("lib.wasm"));
 * const name = writeCString(heap, "world");
 * const greeting = takeCString(heap, exports.make_greeting(name));
 * heap.free(name);
 * ```
 */
export async function instantiateWithHeap<E extends object = WasmExports>(
  source: ArrayBufferView | ArrayBuffer | WasmModule,
  options: WasmHeapOptions = {},
): Promise<WasmWithHeap<E>> {
  const module = await compile(source);
  const facts = inspectModule(module);
  const moduleName = allocatorModuleOf(facts, options.allocatorModule);
  const policy = options.onCError ?? "defer";
  if (policy !== "defer" && policy !== "trap")
    throw new InvalidArgumentError(`onCError must be "defer" or "trap", got ${String(policy)}`);
  const b = new Boundary(policy, options.checkOnReturn === true);
  const js = cAllocatorImports(b);
  // memkit's allocator compiled into the module calls these only off its fast path; `cold` only
  // once it is bound to the heap (which exists after instantiation).
  let cold: ((kind: number, a: number, b: number, fromC: number) => void) | undefined;
  const linked = facts.linkedAllocator
    ? {
        memkit: {
          ...options.imports?.memkit,
          ...js,
          cold: (k: number, a: number, x: number, c: number) => cold?.(k, a, x, c),
        },
      }
    : {};
  let slots = facts.linkedAllocator ? undefined : CAllocatorSlots.create(js);
  const importsFor = (served: CAllocatorFunctions) => ({
    ...options.imports,
    [moduleName]: { ...options.imports?.[moduleName], ...served },
    ...linked,
  });
  let imports = importsFor(slots?.imports ?? js);
  checkImports(facts, imports);
  let instance: WasmInstance;
  try {
    instance = (await wasmApi().instantiate(module, imports)) as WasmInstance;
  } catch (error) {
    // A module declaring malloc/free with other signatures than C's on wasm32 cannot link to
    // WebAssembly functions; JavaScript ones accept any: serve it those.
    if (slots === undefined || (error as Error).name !== "LinkError") throw instantiationFailed(error);
    slots = undefined;
    imports = importsFor(js);
    try {
      instance = (await wasmApi().instantiate(module, imports)) as WasmInstance;
    } catch (again) {
      throw instantiationFailed(again);
    }
  }
  const { memory, heap } = serve(b, instance, memoryOf(instance, facts, imports), options);
  if (slots !== undefined) routeThroughEngine(b, slots, js);
  if (facts.linkedAllocator) cold = bindLinkedAllocator(b, instance, js);
  const exports = wrapExports(b, instance.exports);
  if (typeof exports._initialize === "function") (exports._initialize as () => void)();
  return {
    exports: exports as E,
    memory,
    heap,
    get failedAllocations() {
      return b.failedAllocations;
    },
    useAllocator: (layer) => useAllocator(b, layer),
  };
}

/**
 * Lays memkit's canary at `__heap_base` and its heap just above, and starts serving C's
 * allocations from it.
 */
function serve(b: Boundary, instance: WasmInstance, memory: WasmMemory, options: WasmHeapOptions) {
  const heapBase = Number((instance.exports.__heap_base as WasmGlobal | undefined)?.value ?? Number.NaN);
  if (!Number.isInteger(heapBase) || heapBase <= 0)
    throw new ForeignModuleError("The module exports no __heap_base global (link with -Wl,--export=__heap_base)");
  const stackPointer = instance.exports.__stack_pointer as WasmMutableGlobal | undefined;
  if (b.policy === "trap" && stackPointer === undefined)
    throw new ForeignModuleError(
      'onCError: "trap" unwinds C, so memkit must restore its stack pointer: link with -Wl,--export=__stack_pointer',
    );
  const canaryAt = (heapBase + 7) & -8;
  const base = canaryAt + CANARY_BYTES;
  makeRoom(memory, base);
  const { imports: _i, allocatorModule: _m, onCError: _p, checkOnReturn: _c, allocator, ...heapOptions } = options;
  const heap = Heap.over(memory, { zero: "none", growthHeadroom: MODULE_GROWTH_HEADROOM, ...heapOptions, base });
  const limit = Math.min(0x7fff_fff8, base + (options.maxBytes ?? Number.POSITIVE_INFINITY));
  b.attach(heap, memory, canaryAt, stackPointer, limit);
  if (allocator !== undefined) useAllocator(b, allocator(heap));
  return { memory, heap };
}

function useAllocator(b: Boundary, allocator: CAllocator | undefined): void {
  if (allocator !== undefined && allocator.heap !== b.heap)
    throw new InvalidArgumentError("The allocator must be a layer over this module's own heap (allocator.heap)");
  b.allocator = allocator;
  b.reroute();
}

/**
 * Binds memkit's allocator compiled into the module to the heap (C's malloc and free then stay
 * inside the module), and routes it to the JavaScript functions while an allocator layer is in use
 * or the instance is poisoned. A heap without the engine (debug, for one) leaves it unbound: every
 * call then goes to the JavaScript functions. Returns the heap's handler for its failed checks.
 */
function bindLinkedAllocator(b: Boundary, instance: WasmInstance, js: CAllocatorFunctions) {
  const engine = b.heap.wasmAllocator(js, (error) => reportFromC(b, error));
  const bind = instance.exports.memkit_bind;
  const route = instance.exports.memkit_route;
  if (engine === undefined || typeof bind !== "function" || typeof route !== "function") return undefined;
  engine.bindLinked(bind as Parameters<typeof engine.bindLinked>[0]);
  b.reroute = () => (route as (on: number) => void)(b.servesDirectly ? 1 : 0);
  b.reroute();
  return engine.cold;
}

function instantiationFailed(error: unknown): ForeignModuleError {
  return new ForeignModuleError(`The module could not be instantiated: ${(error as Error).message}`, { cause: error });
}

/**
 * Points C's allocator slots at the heap's WebAssembly engine while C may use it directly (no
 * allocator layer, the instance not poisoned), else at the JavaScript functions with C's rules.
 * The engine hands what it does not serve to those same functions, and a corrupt heap it finds
 * in a call from C is handled like a bad free from C (recorded, or thrown under "trap").
 */
function routeThroughEngine(b: Boundary, slots: CAllocatorSlots, js: CAllocatorFunctions): void {
  const engine = b.heap.wasmAllocator(js, (error) => reportFromC(b, error));
  if (engine === undefined) return;
  b.reroute = () => slots.route(b.servesDirectly ? engine : undefined);
  b.reroute();
}
