/**
 * memkit/ffi: memory that crosses a language boundary with explicit, checked ownership. C code
 * compiled to WebAssembly shares one memkit heap with TypeScript; owned handles move like Rust's
 * `Box::into_raw` / `from_raw`.
 *
 * @module
 */

export { readCString, takeCString, writeCString } from "./c-string.js";
export { type CallbackScope, NativeCallback, type NativeCallbackOptions, nativeCallback } from "./callback.js";
export {
  AlreadyOwnedError,
  ForeignAllocatorError,
  type ForeignAllocatorEvidence,
  ForeignModuleError,
  FreedPointerError,
  MissingPeerError,
  MovedError,
} from "./errors.js";
export {
  type Koffi,
  type KoffiLibrary,
  loadNative,
  Native,
  type NativeCounts,
  type NativeOptions,
  NativeOwned,
} from "./native.js";
export { Owned } from "./owned.js";
export {
  type CAllocator,
  type CErrorPolicy,
  instantiateWithHeap,
  type WasmHeapOptions,
  type WasmWithHeap,
} from "./wasm-heap.js";
export type { WasmExports, WasmGlobal, WasmInstance, WasmModule } from "./wasm-types.js";
