#!/usr/bin/env bash
# Rebuilds bench/heap/as-tlsf.wasm (committed; the heap benchmark loads it) from
# scripts/assemblyscript/tlsf-malloc.ts with the AssemblyScript compiler, fetched by npm exec at an
# exact version so package.json needs no devDependency. Needs only Node and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
npm exec --yes --package=assemblyscript@0.28.20 -- asc scripts/assemblyscript/tlsf-malloc.ts \
  --runtime minimal -O3 --noAssert --exportRuntime -o bench/heap/as-tlsf.wasm
ls -l bench/heap/as-tlsf.wasm
