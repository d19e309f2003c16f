// AssemblyScript, not TypeScript: AssemblyScript's own TLSF (std/assembly/rt/tlsf.ts) exported as a
// C-style allocator, the heap benchmark's "best allocator a JavaScript program can call today".
// Built by scripts/build-as-tlsf.sh into bench/heap/as-tlsf.wasm (committed).
export function malloc(size: usize): usize {
  return heap.alloc(size);
}
export function free(ptr: usize): void {
  heap.free(ptr);
}
export function realloc(ptr: usize, size: usize): usize {
  return heap.realloc(ptr, size);
}
