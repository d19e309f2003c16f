import { instantiateWithHeap } from "memkit/ffi";
import { describe, expect, it } from "vitest";
import { fixture, type JsonLib, loadLibcJson, makeDocument, roundtripWith } from "../../bench/ffi/json-fixture.js";

// An allocation-heavy C library (a JSON parser and printer, test/fixtures/wasm/json.c): one malloc
// per node, string, number and key, a realloc-grown output buffer, everything freed per call.

const memkitJson = () => instantiateWithHeap<JsonLib>(fixture("json.wasm"));

describe("the JSON library in C: memkit's heap and the module's own malloc give the same bytes", () => {
  it("100 documents round-trip byte-identically both ways (and equal JSON.stringify); no live block after", async () => {
    const mod = await memkitJson();
    const libc = await loadLibcJson();
    for (let seed = 1; seed <= 100; seed++) {
      const { text, compact } = makeDocument(500 + seed * 20, seed);
      const viaMemkit = roundtripWith(mod.heap, mod.exports, text);
      expect(viaMemkit).toBe(compact);
      expect(roundtripWith(libc.host, libc.c, text)).toBe(viaMemkit);
    }
    expect(mod.heap.stats().liveBlocks).toBe(0);
    mod.heap.check();
  });

  it("the tree is a real allocation load: thousands of blocks live at once, all freed by json_free", async () => {
    const mod = await memkitJson();
    const { text } = makeDocument(64 * 1024, 7);
    const bytes = Buffer.from(text);
    const src = mod.heap.malloc(bytes.length);
    mod.heap.u8.set(bytes, src);
    const tree = mod.exports.json_parse(src, bytes.length);
    const nodes = mod.exports.json_count(tree);
    expect(nodes).toBeGreaterThan(3000);
    // One block per node, plus one per string, number and key, plus the input.
    expect(mod.heap.stats().liveBlocks).toBeGreaterThan(nodes + 1);
    mod.exports.json_free(tree);
    mod.heap.free(src);
    expect(mod.heap.stats().liveBlocks).toBe(0);
  });

  it("a syntax error is reported by C (NULL, JSON_SYNTAX) and leaves nothing behind", async () => {
    const mod = await memkitJson();
    expect(() => roundtripWith(mod.heap, mod.exports, '{"a":[1,2,{"b":tru}]}')).toThrow(/error 1/);
    expect(mod.heap.stats().liveBlocks).toBe(0);
  });
});

describe("growth that fits", () => {
  // WebAssembly memory never shrinks: what it grows to is paid until the instance dies.
  it("a document 8x the initial memory: the memory ends within 1.25x of what the heap touched (no doubling)", async () => {
    const mod = await memkitJson();
    const initial = mod.memory.buffer.byteLength;
    const { text, compact } = makeDocument(2 * 1024 * 1024, 3);
    expect(text.length).toBeGreaterThan(8 * initial);
    expect(roundtripWith(mod.heap, mod.exports, text)).toBe(compact);
    const touched = mod.heap.base + mod.heap.stats().highWater;
    expect(mod.memory.buffer.byteLength / touched).toBeLessThanOrEqual(1.25);
  });

  // Growth that fits: WebAssembly memory never shrinks, so a module's heap grows by what it needs
  // plus at most 256 KiB (WasmHeapOptions.growthHeadroom). memkit's 8-byte block headers (dlmalloc
  // has 4) keep it above 1.2x on this fixture's ~660,000 tiny blocks; at the heaps' general 8 MiB
  // headroom the 2 MB document ended at 1.33x.
  it("documents several times the initial memory: memory within 1.25x of the module's own malloc", async () => {
    for (const mb of [1, 2, 4]) {
      const mod = await memkitJson();
      const libc = await loadLibcJson();
      const initial = mod.memory.buffer.byteLength;
      const { text, compact } = makeDocument(mb * 1024 * 1024, 3);
      expect(roundtripWith(mod.heap, mod.exports, text)).toBe(compact);
      expect(roundtripWith(libc.host, libc.c, text)).toBe(compact);
      expect(mod.memory.buffer.byteLength).toBeGreaterThan(4 * initial);
      expect(mod.memory.buffer.byteLength / libc.memory.buffer.byteLength).toBeLessThanOrEqual(1.25);
    }
  });
});
