/**
 * The JSON fixture (test/fixtures/wasm/json.c) driven three ways, shared by the ffi tests and
 * benchmark: through memkit's heap (the caller instantiates it with memkit/ffi), through the
 * module's own wasi-libc malloc (json-libc.wasm), and through a trivial JavaScript bump allocator
 * (json.wasm, imports served by a pointer bump and a no-op free) that isolates the cost of
 * crossing the boundary from the cost of the allocator.
 */
import { existsSync, readFileSync } from "node:fs";
import { seededU32 } from "../../src/internal/random.js";

/** The C functions of json.c. */
export interface JsonLib {
  json_roundtrip(src: number, len: number): number;
  json_parse(src: number, len: number): number;
  json_print(tree: number): number;
  json_free(tree: number): void;
  json_count(tree: number): number;
  json_last_error(): number;
}

/** What the round trip needs from an allocator on the JavaScript side (a memkit heap has it). */
export interface HostHeap {
  malloc(bytes: number): number;
  free(ptr: number): void;
  readonly u8: Uint8Array;
}

/** A committed fixture, from the source tree (tests) or from dist-bench/ (the compiled benchmark). */
export function fixture(name: string): Buffer {
  const near = new URL(`../../test/fixtures/wasm/${name}`, import.meta.url);
  return readFileSync(existsSync(near) ? near : new URL(`../../../test/fixtures/wasm/${name}`, import.meta.url));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const WORDS = ["alpha", "beta", "gamma", "delta", "héllo", "wörld", "✓ ok", 'quote\\"d', "tab\\t", ""];

/**
 * A JSON document of about `bytes` bytes (pretty-printed, so the C printer's compact output must
 * equal `JSON.stringify` of it): records of small strings, numbers, booleans, nulls and arrays,
 * which make many small allocations; with `prose`, each record also has a sentence of 20-120 bytes.
 */
export function makeDocument(bytes: number, seed = 1, prose = false): { text: string; compact: string } {
  const next = seededU32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const records: unknown[] = [];
  let size = 0;
  while (size < bytes) {
    const record = {
      id: records.length,
      name: pick(WORDS).replace(/\\./g, ""),
      score: Math.round(next() * 1e6) / 100,
      ok: next() < 0.5,
      tags: Array.from({ length: Math.floor(next() * 6) }, () => pick(WORDS).replace(/\\./g, "")),
      parent: next() < 0.3 ? null : { id: Math.floor(next() * 1000), depth: -Math.floor(next() * 9) },
      ...(prose ? { text: Array.from({ length: 4 + Math.floor(next() * 16) }, () => pick(WORDS)).join(" ") } : {}),
    };
    records.push(record);
    size += JSON.stringify(record, null, 2).length + 4;
  }
  const value = { version: 1, records };
  return { text: JSON.stringify(value, null, 2), compact: JSON.stringify(value) };
}

/** The round trip through C with `host` allocating the input and freeing the output. */
export function roundtripWith(host: HostHeap, c: JsonLib, text: string): string {
  const input = encoder.encode(text);
  const src = host.malloc(input.length + 1);
  host.u8.set(input, src);
  const out = c.json_roundtrip(src, input.length);
  host.free(src);
  if (out === 0) throw new Error(`json_roundtrip failed: error ${c.json_last_error()}`);
  const u8 = host.u8;
  const result = decoder.decode(u8.subarray(out, u8.indexOf(0, out)));
  host.free(out);
  return result;
}

interface RawInstance {
  exports: Record<string, unknown> & { memory: { buffer: ArrayBuffer } };
}

/**
 * json-libc.wasm: the same C with wasi-libc's own malloc (dlmalloc inside the module), or with
 * `bump`, json-bump.wasm: a pointer bump inside the module (`reset` empties it).
 */
export async function loadLibcJson(
  bump = false,
): Promise<{ c: JsonLib; host: HostHeap; memory: { buffer: ArrayBuffer }; reset(): void }> {
  const { instance } = (await WebAssembly.instantiate(
    fixture(bump ? "json-bump.wasm" : "json-libc.wasm"),
    {},
  )) as unknown as {
    instance: RawInstance;
  };
  const e = instance.exports;
  (e._initialize as (() => void) | undefined)?.();
  const host: HostHeap = {
    malloc: e.mk_malloc as (n: number) => number,
    free: e.mk_free as (p: number) => void,
    get u8() {
      return new Uint8Array(e.memory.buffer);
    },
  };
  return {
    c: e as unknown as JsonLib,
    host,
    memory: e.memory,
    reset: () => (e.bump_reset as (() => void) | undefined)?.(),
  };
}

/**
 * json.wasm with malloc served by a JavaScript pointer bump (free does nothing; `reset()` empties
 * it): the allocator costs almost nothing, so its time is C's work plus the boundary crossings.
 */
export async function loadBumpJson(): Promise<{ c: JsonLib; host: HostHeap; reset(): void }> {
  let top = 0;
  let base = 0;
  let memory: { buffer: ArrayBuffer; grow(pages: number): number } | undefined;
  let u8 = new Uint8Array(0);
  const malloc = (size: number): number => {
    const p = top;
    top = (top + (size >>> 0) + 7) & -8;
    if (top > u8.length) {
      (memory as { grow(pages: number): number }).grow(Math.ceil((top - u8.length) / 65536));
      u8 = new Uint8Array((memory as { buffer: ArrayBuffer }).buffer);
    }
    return p;
  };
  const env = {
    malloc,
    free: (_ptr: number) => {},
    realloc: (ptr: number, size: number) => {
      const p = malloc(size);
      if (ptr !== 0) u8.copyWithin(p, ptr, Math.min(ptr + (size >>> 0), u8.length));
      return p;
    },
  };
  const { instance } = (await WebAssembly.instantiate(fixture("json.wasm"), { env })) as unknown as {
    instance: RawInstance & { exports: { memory: { grow(pages: number): number } } };
  };
  memory = instance.exports.memory;
  u8 = new Uint8Array(memory.buffer);
  base = (((instance.exports.__heap_base as { value: number }).value + 7) & -8) as number;
  top = base;
  const host: HostHeap = {
    malloc,
    free: () => {},
    get u8() {
      return u8;
    },
  };
  const reset = () => {
    top = base;
  };
  return { c: instance.exports as unknown as JsonLib, host, reset };
}
