import { readFileSync } from "node:fs";
import { instantiateWithHeap, readCString, writeCString } from "memkit/ffi";
import { describe, expect, it } from "vitest";

// A module that allocates with an allocator of its own in the memory memkit's heap manages is
// never served silently: refused at instantiation, or caught when control returns to JavaScript.

const fixture = (name: string) => readFileSync(new URL(`../fixtures/wasm/${name}`, import.meta.url));

interface Hooks {
  lib_mixed(n: number): number;
  lib_use_hooks(): void;
  lib_dup(s: number): number;
  lib_release(p: number): void;
  lib_grow_alloc(n: number): number;
}

interface OwnMalloc {
  dup(s: number): number;
}

describe("a module with its own malloc and no malloc import is refused at instantiation", () => {
  it.each(["own-malloc.wasm", "ownership-libc.wasm", "json-libc.wasm"])(
    "%s (wasi-libc's malloc linked in) -> ForeignAllocatorError saying how to build it",
    async (name) => {
      const error = await instantiateWithHeap(fixture(name)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_MEMKIT_FOREIGN_ALLOCATOR", evidence: "own-malloc" });
      expect((error as Error).message).toContain("--allow-undefined");
    },
  );

  it("the same module compiled with malloc imported is accepted", async () => {
    await expect(instantiateWithHeap(fixture("json.wasm"))).resolves.toBeDefined();
  });
});

describe("a foreign allocator writing into memkit's heap is caught at the first return to JavaScript", () => {
  it("stripped of its names, a module with its own malloc is caught on the first call that allocates", async () => {
    const mod = await instantiateWithHeap<OwnMalloc>(fixture("own-malloc-stripped.wasm"));
    const text = writeCString(mod.heap, "hello");
    const error = (() => {
      try {
        return mod.exports.dup(text);
      } catch (e) {
        return e;
      }
    })();
    // The pointer C's own malloc returned never reaches the caller.
    expect(error).toMatchObject({ code: "ERR_MEMKIT_FOREIGN_ALLOCATOR", evidence: "heap-overwritten" });
    // Every later call is refused: the heap can no longer be trusted.
    expect(() => mod.exports.dup(text)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_FOREIGN_ALLOCATOR" }));
  });

  it("a library whose allocator hooks are not installed yet imports malloc, but is caught on its first allocation", async () => {
    const mod = await instantiateWithHeap<Hooks>(fixture("hooks.wasm"));
    const text = writeCString(mod.heap, "hello");
    expect(() => mod.exports.lib_dup(text)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_FOREIGN_ALLOCATOR", evidence: "heap-overwritten" }),
    );
    expect(() => mod.exports.lib_use_hooks()).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_FOREIGN_ALLOCATOR" }),
    );
  });

  it("both allocators in one call: memkit never hangs or serves from its damaged heap; the foreign allocator is reported", async () => {
    const mod = await instantiateWithHeap<Hooks>(fixture("hooks.wasm"));
    expect(() => mod.exports.lib_mixed(100)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_FOREIGN_ALLOCATOR", evidence: "heap-overwritten" }),
    );
  });

  it("with its hooks installed first, the same library shares memkit's heap: 1,000 round trips, no live block", async () => {
    const mod = await instantiateWithHeap<Hooks>(fixture("hooks.wasm"));
    mod.exports.lib_use_hooks();
    const text = writeCString(mod.heap, "hooked");
    for (let i = 0; i < 1000; i++) {
      const copy = mod.exports.lib_dup(text);
      expect(readCString(mod.heap, copy)).toBe("hooked");
      if (i % 2) mod.heap.free(copy);
      else mod.exports.lib_release(copy);
    }
    mod.heap.free(text);
    expect(mod.heap.stats().liveBlocks).toBe(0);
    mod.heap.check();
  });

  it("an allocator that grows the memory itself (sbrk over memory.grow) is caught when the call returns", async () => {
    const mod = await instantiateWithHeap<Hooks>(fixture("hooks.wasm"));
    mod.exports.lib_use_hooks();
    expect(() => mod.exports.lib_grow_alloc(100_000)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_FOREIGN_ALLOCATOR", evidence: "memory-grown" }),
    );
  });

  it("memkit growing the memory from JavaScript is not mistaken for a foreign allocator", async () => {
    const mod = await instantiateWithHeap<Hooks>(fixture("hooks.wasm"));
    mod.exports.lib_use_hooks();
    const before = mod.memory.buffer.byteLength;
    const big = mod.heap.malloc(4 << 20);
    expect(mod.memory.buffer.byteLength).toBeGreaterThan(before);
    const copy = mod.exports.lib_dup(writeCString(mod.heap, "after growth"));
    expect(readCString(mod.heap, copy)).toBe("after growth");
    mod.heap.free(big);
  });
});

describe("checkOnReturn: heap.check() every time control returns to JavaScript", () => {
  it("a stray write over a block header (a C overflow) is caught when the call returns, not at some later free", async () => {
    interface Blocks {
      allocate(n: number): number;
      release(p: number): void;
    }
    const checked = await instantiateWithHeap<Blocks>(fixture("ownership.wasm"), { checkOnReturn: true });
    const plain = await instantiateWithHeap<Blocks>(fixture("ownership.wasm"));
    for (const mod of [checked, plain]) {
      const first = mod.exports.allocate(24);
      mod.exports.allocate(24);
      // 32 bytes from the start of a 24-byte block: over the next block's header.
      mod.heap.u8.fill(0x41, first, first + 40);
    }
    expect(() => checked.exports.release(0)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_HEAP_CORRUPTION" }));
    expect(() => plain.exports.release(0)).not.toThrow();
  });
});

describe("raw WebAssembly errors come out as memkit's", () => {
  it("a wrong allocatorModule says which module the C code imports malloc from", async () => {
    const error = await instantiateWithHeap(fixture("ownership.wasm"), { allocatorModule: "libc" }).catch((e) => e);
    expect(error).toMatchObject({ code: "ERR_MEMKIT_FOREIGN_MODULE" });
    expect((error as Error).message).toContain('allocatorModule: "env"');
  });

  it("missing imports are listed instead of WebAssembly's LinkError; bad bytes are a typed error", async () => {
    const error = await instantiateWithHeap(importsFdWrite()).catch((e) => e);
    expect(error).toMatchObject({ code: "ERR_MEMKIT_FOREIGN_MODULE" });
    expect((error as Error).message).toContain("wasi_snapshot_preview1.fd_write");
    const notWasm = await instantiateWithHeap(new Uint8Array([1, 2, 3, 4])).catch((e) => e);
    expect(notWasm).toMatchObject({ code: "ERR_MEMKIT_FOREIGN_MODULE" });
    expect((notWasm as Error).cause).toBeInstanceOf(Error);
    const notBytes = await instantiateWithHeap("lib.wasm" as unknown as Uint8Array).catch((e) => e);
    expect(notBytes).toMatchObject({ code: "ERR_MEMKIT_INVALID_ARGUMENT" });
  });
});

/** The smallest module that imports wasi_snapshot_preview1.fd_write (type () -> ()). */
function importsFdWrite(): Uint8Array {
  const text = (t: string) => [t.length, ...Buffer.from(t)];
  const imports = [1, ...text("wasi_snapshot_preview1"), ...text("fd_write"), 0, 0];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, imports.length, ...imports]);
}
