#!/usr/bin/env bash
# Rebuilds the committed WebAssembly fixtures from C. Needs Debian's clang-16, lld-16 and wasi-libc
# (apt-get install clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32); the test suite uses the committed .wasm files.
set -euo pipefail
cd "$(dirname "$0")/../test/fixtures/wasm"
CC=${CC:-clang-16}
LD_FLAGS="-Wl,--no-entry -Wl,--export=__heap_base -Wl,--export-memory -Wl,--max-memory=268435456"
# -fno-builtin: clang would otherwise delete the malloc/free pairs of the deliberate bugs.
$CC --target=wasm32 -O2 -nostdlib -fno-builtin -mbulk-memory $LD_FLAGS -Wl,--allow-undefined -fuse-ld=lld -o ownership.wasm ownership.c
$CC --target=wasm32-wasi --sysroot=/usr -O2 -fno-builtin -DUSE_LIBC -mbulk-memory -mexec-model=reactor $LD_FLAGS -fuse-ld=lld -o ownership-libc.wasm ownership.c
ls -l ownership.wasm ownership-libc.wasm
