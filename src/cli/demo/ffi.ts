import { instantiateWithHeap, loadNative, Owned, readCString, takeCString, writeCString } from "../../ffi/index.js";
import { isMemkitError } from "../../internal/errors.js";
import { ownershipWasm } from "./ownership-wasm.js";
import type { DemoSection } from "./section.js";

type Exports = {
  take_string(ptr: number): number;
  make_greeting(ptr: number): number;
  build_list(n: number): number;
  free_twice(): void;
  allocate(n: number): number;
};

/** `memkit demo ffi`: C compiled to WebAssembly and TypeScript sharing one allocator. */
export const ffiSection: DemoSection = {
  name: "ffi",
  title: "memory that crosses the language boundary (WebAssembly, and native C with koffi)",
  async run(io) {
    const { exports: c, heap, memory } = await instantiateWithHeap<Exports>(Buffer.from(ownershipWasm, "base64"));
    io.out(`C module instantiated; memkit serves its malloc/free from a heap just above __heap_base (at ${heap.base})`);
    const length = c.take_string(writeCString(heap, "ownership moves to C"));
    io.out(
      `TypeScript allocated a string, C took ownership and freed it (strlen ${length}); live blocks: ${heap.stats().liveBlocks}`,
    );
    using name = Owned.cString(heap, "memkit");
    const greeting = takeCString(heap, c.make_greeting(name.ptr));
    io.out(`C allocated "${greeting}", TypeScript read and freed it`);
    io.out(
      `C built and freed a 1000-node linked list (sum ${c.build_list(1000)}); live blocks: ${heap.stats().liveBlocks} (our own "memkit" string)`,
    );
    try {
      c.free_twice();
    } catch (error) {
      io.out(
        `C freed a block twice: C carried on, and ${isMemkitError(error) ? error.code : String(error)} was thrown when it returned; heap.check() still passes`,
      );
      heap.check();
    }
    io.out(`C asked malloc for SIZE_MAX bytes: got ${c.allocate(0xffffffff)} (NULL, as C expects, not an exception)`);
    const before = memory.buffer.byteLength;
    const big = c.allocate(4 << 20);
    io.out(
      `C allocated 4 MiB: memory grew ${before >> 10} -> ${memory.buffer.byteLength >> 10} KiB; our handle still reads "${readCString(heap, name.ptr)}"`,
    );
    heap.free(big);
    const native = await loadNative().catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    );
    if (!(native instanceof Error)) {
      const text = native.strdup("owned by libc");
      const raw = text.intoRaw(); // as if handed to C, which would free() it
      const back = native.fromRaw(raw); // and handed back
      io.out(`native (koffi): strdup -> intoRaw -> fromRaw -> "${native.readCString(back.ptr)}"`);
      back.free();
      io.out(`native allocation counter: ${JSON.stringify(native.counts)}`);
    } else {
      io.out(`native part skipped: ${native.message.split(":")[0]} (npm install koffi to see it)`);
    }
  },
};
