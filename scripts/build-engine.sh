#!/usr/bin/env bash
# Rebuilds the two WebAssembly modules memkit ships, embedded as base64 in TypeScript (committed:
# the package needs no compiler, and loads them the same way in Node, browsers and bundlers):
#   src/heap/engine-wasm.ts          from src/heap/engine/tlsf.c (TLSF's hot paths), with clang-16 + lld-16;
#   src/ffi/c-allocator-slots-wasm.ts from src/ffi/wasm/c-allocator-slots.wat, with wabt's wat2wasm.
# (Debian: apt-get install clang-16 lld-16 wabt.)
#
# The engine must not touch linear memory of its own (it imports the heap's): no data, no stack
# (-z stack-size=0), its state in WebAssembly globals (address space 1). -fwrapv: int arithmetic
# wraps as TypeScript's `| 0` does (values read from a corrupt heap may overflow). -fno-builtin:
# keep the small copy and zeroing loops as loops (see zero_range).
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-clang-16}
out=$(mktemp -d)
$CC --target=wasm32 -O3 -nostdlib -mbulk-memory -fno-strict-aliasing -fwrapv -fno-builtin -fuse-ld=lld \
  -Wl,--no-entry -Wl,--import-memory -Wl,--initial-memory=65536 -Wl,-z,stack-size=0 \
  -Wl,--global-base=0 -Wl,--strip-all -o "$out/tlsf.wasm" src/heap/engine/tlsf.c
node scripts/embed-wasm.mjs "$out/tlsf.wasm" src/heap/engine-wasm.ts ENGINE_WASM \
  "memkit's TLSF engine (src/heap/engine/tlsf.c), built by scripts/build-engine.sh"
wat2wasm src/ffi/wasm/c-allocator-slots.wat -o "$out/slots.wasm"
node scripts/embed-wasm.mjs "$out/slots.wasm" src/ffi/c-allocator-slots-wasm.ts SLOTS_WASM \
  "the C allocator slots (src/ffi/wasm/c-allocator-slots.wat), built by scripts/build-engine.sh"
ls -l "$out"/*.wasm
