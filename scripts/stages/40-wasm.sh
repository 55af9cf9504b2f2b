#!/usr/bin/env bash
# sframe-wasm: build the JS package (wasm32 target + pinned wasm-bindgen-cli, installed if
# missing), then its tests under Node:
#   - wasm-bindgen tests (sframe-wasm/tests/node.rs) via wasm-bindgen-test-runner,
#   - node:test suites of the package (low-level API, RFC 9605 / iana-256 vectors, the W3C
#     streams and RTCRtpSFrameEncrypter/Decrypter with an in-process worker, installPolyfill),
#   - the type-check of the JS package: tsc (typescript, an exact devDependency) over js/ with
#     checkJs, index.d.ts and test/types.ts,
#   - one short run of the bench so it keeps working (not a timing check).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { apt-get update && apt-get install -y nodejs npm; }

bash sframe-wasm/scripts/build.sh

CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p sframe-wasm --target wasm32-unknown-unknown

(cd sframe-wasm && node --test test/)

# Type-check (after the build: js/wasm.js imports pkg/, typed by wasm-bindgen's .d.ts).
# `npm ci` only when node_modules lacks the pinned typescript (it would delete node_modules
# under a concurrently running browser e2e); --no-install: never fetch whatever npm's "tsc"
# name resolves to.
want_ts=$(node -p "require('./sframe-wasm/package.json').devDependencies.typescript")
have_ts=$(node -p "try { require('./sframe-wasm/node_modules/typescript/package.json').version } catch { '' }")
[ "$have_ts" = "$want_ts" ] || (cd sframe-wasm && npm ci --no-audit --no-fund)
(cd sframe-wasm && npx --no-install tsc --version && npx --no-install tsc --noEmit -p .)
if [ -f sframe-wasm/bench/bench.mjs ]; then
  (cd sframe-wasm && node bench/bench.mjs --quick)
fi
