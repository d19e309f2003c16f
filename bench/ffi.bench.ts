/**
 * `npm run bench -- ffi`: an allocation-heavy C library (the JSON parser and printer of
 * test/fixtures/wasm/json.c) with memkit's heap, with the module's own malloc, with a trivial
 * JavaScript bump allocator (the boundary crossings alone) and with memkit's heap behind bare
 * imports (no C rules, no boundary checks); then string hand-offs between TypeScript and C.
 * TS -> C: a JS string becomes a C string C takes ownership of and frees. C -> TS: C returns a
 * malloc'd copy that TypeScript reads and frees. Through the memkit heap (C's malloc/free are
 * imports served by memkit), through the module's own wasi-libc malloc, and through a fresh
 * Uint8Array copy (encode, then copy into the module's memory).
 */
import { readFileSync } from "node:fs";
import { instantiateWithHeap, takeCString, writeCString } from "../src/ffi/index.js";
import { Heap } from "../src/heap/index.js";
import {
  type JsonLib,
  fixture as jsonFixture,
  loadBumpJson,
  loadLibcJson,
  makeDocument,
  roundtripWith,
} from "./ffi/json-fixture.js";
import { type Contender, runBenchmark } from "./harness.js";

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/wasm/${name}`, import.meta.url));
type Fn = (...args: number[]) => number;

const shared = await instantiateWithHeap(fixture("ownership.wasm"), { zero: "none" });
const s = shared.exports as Record<string, Fn>;
const libcModule = (await WebAssembly.instantiate(fixture("ownership-libc.wasm"), {})) as unknown as {
  instance: { exports: Record<string, unknown> & { memory: { buffer: ArrayBuffer } } };
};
const l = libcModule.instance.exports as Record<string, Fn> & { memory: { buffer: ArrayBuffer } };
(l._initialize as () => void)();
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TEXT = "the quick brown fox jumps over the lazy dog 0123456789";
const BYTES = Buffer.byteLength(TEXT);

function libcWrite(text: string): number {
  const p = l.mk_malloc?.(BYTES + 1) as number;
  const u8 = new Uint8Array(l.memory.buffer);
  encoder.encodeInto(text, u8.subarray(p, p + BYTES));
  u8[p + BYTES] = 0;
  return p;
}

function libcRead(p: number): string {
  const u8 = new Uint8Array(l.memory.buffer);
  const end = u8.indexOf(0, p);
  const text = decoder.decode(u8.subarray(p, end));
  l.mk_free?.(p);
  return text;
}

const N = 1000;
const toC: Contender[] = [
  {
    name: "memkit heap: writeCString + C frees",
    ops: N,
    fn: () => {
      for (let i = 0; i < N; i++) s.take_string?.(writeCString(shared.heap, TEXT));
    },
  },
  {
    name: "module's own malloc (wasi-libc): mk_malloc + encodeInto + C frees",
    ops: N,
    fn: () => {
      for (let i = 0; i < N; i++) l.take_string?.(libcWrite(TEXT));
    },
  },
  {
    name: "fresh Uint8Array: encode() + copy in + C frees",
    ops: N,
    fn: () => {
      for (let i = 0; i < N; i++) {
        const bytes = encoder.encode(`${TEXT}\0`);
        const p = l.mk_malloc?.(bytes.length) as number;
        new Uint8Array(l.memory.buffer).set(bytes, p);
        l.take_string?.(p);
      }
    },
  },
];
const arg = writeCString(shared.heap, TEXT);
const libcArg = libcWrite(TEXT);
let sink = 0;
const toTs: Contender[] = [
  {
    name: "memkit heap: C mallocs, takeCString reads + frees",
    ops: N,
    fn: () => {
      for (let i = 0; i < N; i++) sink += takeCString(shared.heap, s.echo?.(arg) as number)?.length ?? 0;
    },
  },
  {
    name: "module's own malloc (wasi-libc): decode + mk_free",
    ops: N,
    fn: () => {
      for (let i = 0; i < N; i++) sink += libcRead(l.echo?.(libcArg) as number).length;
    },
  },
  {
    name: "fresh Uint8Array: slice() copy out + decode + mk_free",
    ops: N,
    fn: () => {
      for (let i = 0; i < N; i++) {
        const p = l.echo?.(libcArg) as number;
        const u8 = new Uint8Array(l.memory.buffer);
        sink += decoder.decode(u8.slice(p, u8.indexOf(0, p))).length;
        l.mk_free?.(p);
      }
    },
  },
];

// --- the JSON library -------------------------------------------------------------------------
const DOC = makeDocument(64 * 1024, 5).text;
const memkitJson = await instantiateWithHeap<JsonLib>(jsonFixture("json.wasm"));
const linkedJson = await instantiateWithHeap<JsonLib>(jsonFixture("json-linked.wasm"));
const libcJson = await loadLibcJson();
const bumpJson = await loadBumpJson();
const wasmBumpJson = await loadLibcJson(true);
let bareHeap: Heap | undefined;
let allocations = 0;
const bareImports = {
  malloc: (n: number) => {
    allocations++;
    return (bareHeap as Heap).tryMalloc(n >>> 0);
  },
  free: (p: number) => {
    if (p !== 0) (bareHeap as Heap).free(p >>> 0);
  },
  realloc: (p: number, n: number) => {
    allocations++;
    return p === 0 ? (bareHeap as Heap).tryMalloc(n >>> 0) : (bareHeap as Heap).realloc(p >>> 0, n >>> 0);
  },
};
const bare = (await WebAssembly.instantiate(jsonFixture("json.wasm"), { env: bareImports })) as unknown as {
  instance: { exports: Record<string, unknown> & { memory: WebAssembly.Memory; __heap_base: { value: number } } };
};
bareHeap = Heap.over(bare.instance.exports.memory, {
  base: (bare.instance.exports.__heap_base.value + 7) & -8,
  zero: "none",
});
const bareJson = bare.instance.exports as unknown as JsonLib;
roundtripWith(bareHeap, bareJson, DOC);
const perRound = allocations;
const json: Contender[] = [
  { name: "memkit heap (instantiateWithHeap)", fn: () => roundtripWith(memkitJson.heap, memkitJson.exports, DOC) },
  {
    name: "memkit heap, memkit's allocator linked into the module",
    fn: () => roundtripWith(linkedJson.heap, linkedJson.exports, DOC),
  },
  { name: "module's own malloc (wasi-libc dlmalloc in wasm)", fn: () => roundtripWith(libcJson.host, libcJson.c, DOC) },
  {
    name: "JS bump allocator (crossings only, free is a no-op)",
    fn: () => {
      roundtripWith(bumpJson.host, bumpJson.c, DOC);
      bumpJson.reset();
    },
  },
  {
    name: "memkit heap, bare imports (no C rules or checks)",
    fn: () => roundtripWith(bareHeap as Heap, bareJson, DOC),
  },
  {
    name: "bump inside wasm (C's own work: no crossings, no allocator)",
    fn: () => {
      roundtripWith(wasmBumpJson.host, wasmBumpJson.c, DOC);
      wasmBumpJson.reset();
    },
  },
];

await runBenchmark("ffi", [
  {
    name: `JSON round trip in C (${DOC.length >> 10} KB document, ${perRound} mallocs/reallocs + as many frees), time per round trip`,
    contenders: json,
  },
  { name: `TypeScript -> C string hand-off (${BYTES} B), ns per round trip`, contenders: toC },
  { name: `C -> TypeScript result hand-off (${BYTES} B), ns per round trip`, contenders: toTs },
]);
if (sink === -1) console.log(sink);
