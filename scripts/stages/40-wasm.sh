#!/usr/bin/env bash
# sframe-wasm: build the JS package (wasm32 target + pinned wasm-bindgen-cli, installed if
# missing), then its tests under Node:
#   - wasm-bindgen tests (sframe-wasm/tests/node.rs) via wasm-bindgen-test-runner,
#   - node:test suites of the package (low-level API, RFC 9605 vectors, SFrameTransform),
#   - one short run of the bench so it keeps working (not a timing check).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { apt-get update && apt-get install -y nodejs npm; }

bash sframe-wasm/scripts/build.sh

CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p sframe-wasm --target wasm32-unknown-unknown

(cd sframe-wasm && node --test test/)
if [ -f sframe-wasm/bench/bench.mjs ]; then
  (cd sframe-wasm && node bench/bench.mjs --quick)
fi
