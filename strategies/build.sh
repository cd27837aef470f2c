#!/usr/bin/env bash
# Builds the example strategies to WebAssembly (ABI v1, see docs/strategy-abi.md).
# Needs node + npm; assemblyscript is pinned to 0.28.20 in package.json / package-lock.json.
# The outputs in */build/*.wasm are checked in so the .NET build and tests need no node.
set -euo pipefail
cd "$(dirname "$0")"

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

for name in sma-crossover rsi-mean-reversion; do
  mkdir -p "$name/build"
  npx asc "$name/$name.ts" -o "$name/build/$name.wasm" -O3 --noAssert
  echo "built $name/build/$name.wasm"
done
