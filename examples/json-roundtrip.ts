/**
 * A C library nobody wrote for memkit, bound the way you would bind yours: the JSON parser and
 * printer in test/fixtures/wasm/json.c, compiled to WebAssembly with malloc/free/realloc left as
 * imports (json.wasm) so memkit serves them from the module's own memory. The same C linked with
 * wasi-libc's malloc (json-libc.wasm) is refused by memkit, and run raw here as the reference.
 */
import { readFileSync } from "node:fs";
import { instantiateWithHeap, takeCString } from "memkit/ffi";

/** The C functions of json.c. */
interface JsonLib {
  json_roundtrip(src: number, len: number): number;
  json_last_error(): number;
}

const wasm = (name: string) => readFileSync(new URL(`../test/fixtures/wasm/${name}`, import.meta.url));

/** A document of `records` records, pretty-printed (the C printer writes it back compact). */
function document(records: number): string {
  const list = Array.from({ length: records }, (_, id) => ({
    id,
    name: `record ${id} ✓`,
    tags: ["heap", "ffi", "c"].slice(0, id % 4),
    score: id * 1.5,
    parent: id % 3 ? null : { id: id - 1 },
  }));
  return JSON.stringify({ version: 1, records: list }, null, 2);
}

/** The reference: the same C with its own malloc, driven through its exported mk_malloc/mk_free. */
async function withOwnMalloc(text: string): Promise<string> {
  // Node's types do not declare WebAssembly (only the DOM library does): this is the little used here.
  const { WebAssembly: wa } = globalThis as unknown as {
    WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<unknown> };
  };
  const { instance } = (await wa.instantiate(wasm("json-libc.wasm"), {})) as {
    instance: { exports: Record<string, (...args: number[]) => number> & { memory: { buffer: ArrayBuffer } } };
  };
  const e = instance.exports;
  e._initialize?.();
  const bytes = Buffer.from(text);
  const src = e.mk_malloc?.(bytes.length) ?? 0;
  new Uint8Array(e.memory.buffer).set(bytes, src);
  const out = e.json_roundtrip?.(src, bytes.length) ?? 0;
  const u8 = new Uint8Array(e.memory.buffer);
  const result = Buffer.from(u8.subarray(out, u8.indexOf(0, out))).toString();
  e.mk_free?.(out);
  e.mk_free?.(src);
  return result;
}

/** `npm run example -- json`: memkit's heap and the module's own malloc give the same bytes. */
export async function main(): Promise<void> {
  const refused = await instantiateWithHeap(wasm("json-libc.wasm")).catch((error: { code?: string }) => error.code);
  console.log(`json-libc.wasm (wasi-libc's own malloc) refused by instantiateWithHeap: ${refused}`);
  const { exports: c, heap, memory } = await instantiateWithHeap<JsonLib>(wasm("json.wasm"));
  const text = document(20_000);
  const bytes = Buffer.from(text);
  const src = heap.malloc(bytes.length);
  heap.u8.set(bytes, src);
  const viaMemkit = takeCString(heap, c.json_roundtrip(src, bytes.length)); // C allocated it: we free it
  heap.free(src);
  const reference = await withOwnMalloc(text);
  const same = viaMemkit === reference && viaMemkit === JSON.stringify(JSON.parse(text));
  console.log(
    `${same ? "ok " : "BAD"} ${bytes.length} bytes of JSON parsed into a tree and printed back by C: byte-identical with the module's own malloc`,
  );
  const { liveBlocks, highWater } = heap.stats();
  console.log(
    `${liveBlocks === 0 ? "ok " : "BAD"} live blocks after the round trip: ${liveBlocks} (the heap's high water: ${(highWater / 2 ** 20).toFixed(1)} MiB; memory: ${(memory.buffer.byteLength / 2 ** 20).toFixed(1)} MiB)`,
  );
  if (!same || liveBlocks !== 0) process.exitCode = 1;
}
