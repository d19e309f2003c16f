#!/usr/bin/env bash
# Builds memkit's fork addon (native/fork/fork.c) into prebuilds/linux-x64/memkit-fork.node.
# The sha256 of the source is compiled into the binary, so a test can check that the committed
# binary was built from the committed source.
#
# Needs gcc (or cc) and Node's N-API headers, looked for in: $NODE_INCLUDE_DIR, /usr/include/node,
# /usr/local/include/node, node-gyp's cache (~/.cache/node-gyp/<version>/include/node). Without them:
#   npm exec node-gyp -- install        (downloads the headers into node-gyp's cache), or
#   cd native/fork && npm exec node-gyp -- rebuild   (builds with binding.gyp instead of this script)
set -euo pipefail
cd "$(dirname "$0")/.."
src=native/fork/fork.c
out=prebuilds/linux-x64/memkit-fork.node
version=$(node -p process.version | tr -d v)
include=""
for dir in "${NODE_INCLUDE_DIR:-}" /usr/include/node /usr/local/include/node "$HOME/.cache/node-gyp/$version/include/node"; do
  if [ -n "$dir" ] && [ -f "$dir/node_api.h" ]; then include=$dir; break; fi
done
if [ -z "$include" ]; then
  echo "build-fork-addon: no node_api.h found; run 'npm exec node-gyp -- install' or set NODE_INCLUDE_DIR" >&2
  exit 1
fi
cc=${CC:-$(command -v gcc || command -v cc)}
sha=$(sha256sum "$src" | cut -d' ' -f1)
mkdir -p "$(dirname "$out")"
"$cc" -O2 -Wall -Wextra -Wno-unused-parameter -shared -fPIC -std=gnu11 \
  -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=memkit_fork -DMEMKIT_FORK_SOURCE_SHA256="\"$sha\"" \
  -I"$include" -o "$out" "$src"
strip --strip-unneeded "$out" 2>/dev/null || true
echo "built $out from $src (sha256 $sha)"
