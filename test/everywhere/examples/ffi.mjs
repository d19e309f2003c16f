// The README example of `memkit/ffi`, runnable everywhere: the WebAssembly half always; the native
// half (koffi) only where the caller asks for it, since koffi is an optional Node peer.
import { instantiateWithHeap, loadNative, Owned, takeCString, writeCString } from "memkit/ffi";
import { check } from "./check.mjs";

/** `wasm`: the bytes of test/fixtures/wasm/ownership.wasm (read from disk or fetched by the page). */
export default async function ffiExample({ wasm, native = false }) {
  const { exports, heap } = await instantiateWithHeap(wasm);
  const text = "TypeScript allocates, C frees";
  check(exports.take_string(writeCString(heap, text)) === text.length, "C received the string");
  const name = writeCString(heap, "memkit");
  const greeting = takeCString(heap, exports.make_greeting(name));
  heap.free(name);
  check(greeting === "Hello, memkit!", `C allocated the greeting, got ${greeting}`);
  const owned = Owned.cString(heap, "moved");
  try {
    exports.take_string(owned.intoRaw());
    check(!owned.isOwned, "ownership moved to C");
  } finally {
    owned[Symbol.dispose]();
  }
  check(heap.stats().liveBlocks === 0, "nothing leaked on either side");
  heap.check();
  if (!native) return { greeting };
  const lib = await loadNative();
  const answer = lib.strdup("secret");
  answer.free();
  check(lib.counts.live === 0, "the native string was freed once");
  return { greeting, native: lib.counts };
}
